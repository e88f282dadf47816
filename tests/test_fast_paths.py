"""corpus/db.py's rule, for the whole code base: every PostgreSQL fast path goes
through fast_path("name"), and every name has an equality test.

An equality test runs the same public function on the same PostgreSQL data with the
fast path and inside ``with portable("name"):`` and compares the results; the tests
that do live beside the code they cover (tests/*/test_*fast_paths.py). This module
only checks that none is missing, and that no module decides by the database's
vendor itself, where no test could force its twin.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ("annotator", "corpus")
SWITCH = ROOT / "corpus" / "db.py"  # the switch itself; its docstring has an example


def code_files() -> list[Path]:
    return [
        path
        for package in CODE
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and path != SWITCH
    ]


def fast_path_names() -> dict[str, list[str]]:
    """{name: the modules that take that fast path}."""
    names: dict[str, list[str]] = {}
    for path in code_files():
        for name in re.findall(r'fast_path\(\s*"([^"]+)"', path.read_text()):
            names.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return names


def names_with_a_test() -> set[str]:
    tested: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        tested |= set(re.findall(r'portable\(\s*"([^"]+)"', path.read_text()))
    return tested


def test_every_fast_path_has_an_equality_test():
    names = fast_path_names()
    # The scan finds them (a broken pattern would find none and pass).
    assert {"claim-in-one-statement", "gold-csv-copy", "copy-rows"} <= set(names)
    untested = {
        name: where for name, where in names.items() if name not in names_with_a_test()
    }
    assert not untested, (
        "fast paths without a portable(name) equality test: "
        + "; ".join(f"{name} ({', '.join(where)})" for name, where in untested.items())
    )


def test_no_module_decides_by_vendor_itself():
    deciding = [
        str(path.relative_to(ROOT))
        for path in code_files()
        if re.search(r"\.vendor\s*[!=]=", path.read_text())
    ]
    assert not deciding, (
        f"{deciding} test the database vendor: use corpus.db.fast_path(name) and "
        "add an equality test with portable(name)"
    )
