"""The layout docs/ARCHITECTURE.md describes, checked: module size and docstrings,
which layer may import which."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# "About 400 lines": a module past this is split along its seams.
MAX_LINES = 420


def modules(*packages: str) -> list[Path]:
    return sorted(
        path
        for package in packages
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def imported(path: Path) -> Iterator[str]:
    """Every module a file imports (absolute, or relative made absolute)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize("path", modules("annotator", "corpus"), ids=str)
def test_a_module_is_short_and_opens_with_a_one_line_docstring(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_LINES, f"{path}: split it along its seams"
    if not text.strip():
        return  # an empty __init__.py
    docstring = ast.get_docstring(ast.parse(text), clean=False)
    assert docstring, f"{path} has no docstring saying its job"
    lines = docstring.split("\n")
    assert len(lines) == 1 or not lines[1].strip(), (
        f"{path}: the docstring's first line should say the job on its own"
    )


def test_corpus_never_imports_annotator():
    for path in modules("corpus"):
        assert not [m for m in imported(path) if m.split(".")[0] == "annotator"], path


def test_the_maths_never_imports_django():
    pure = [
        *modules("annotator/agreement"),
        *modules("annotator/gold_maths"),
        *modules("annotator/machine"),
        ROOT / "annotator" / "medians.py",
    ]
    for path in pure:
        for module in imported(path):
            top = module.split(".")[0]
            assert top not in ("django", "rest_framework", "corpus"), (path, module)


def test_no_view_module_imports_another_ones_helpers():
    """Pages share only views/base.py and views/cards.py; the API no page at all."""
    shared = {"annotator.views.base", "annotator.views.cards"}
    for path in modules("annotator/views", "annotator/api"):
        own = "annotator." + ".".join(path.relative_to(ROOT / "annotator").parts)
        for module in imported(path):
            if not module.startswith("annotator.views."):
                continue
            target = ".".join(module.split(".")[:3])
            allowed = shared if "views" in path.parts else set()
            assert target in allowed or target == own.removesuffix(".py"), (
                f"{path.relative_to(ROOT)} imports {module}"
            )


LONG_WORK = {
    "refresh_gold",
    "refresh",
    "import_documents",
    "read_upload",
    "run_corpus_import",
    "archive_project",
    "restore_project",
    "write_archive",
    "read_archive",
    "run_archive",
    "run_restore",
}


def test_no_request_computes_gold_or_imports():
    """Pages and the API queue long work (annotator.services.jobs); none of them
    reaches refresh_gold, the corpus importer or the archive, which only tasks
    and commands call."""
    for path in modules("annotator/views", "annotator/api"):
        source = path.read_text()
        calls = ("refresh_gold(", "import_documents(", "read_upload(")
        archive = ("archive_project(", "restore_project(", "write_archive(")
        for call in (*calls, *archive, "read_archive("):
            assert call not in source, (path.relative_to(ROOT), call)
        tree = ast.parse(source)
        names = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert not names & LONG_WORK, path.relative_to(ROOT)
        assert not any(m.startswith("annotator.archive") for m in imported(path)), (
            path.relative_to(ROOT)
        )


def test_only_the_pool_module_reaches_past_the_project_manager():
    """Project.objects hides reference pools (training.pool): a reader handed a
    pool could leak hidden checks into a study's data, so only the pool module may
    use all_objects (models/projects.py defines it)."""
    allowed = {
        ROOT / "annotator" / "training" / "pool.py",
        ROOT / "annotator" / "models" / "projects.py",
    }
    for path in modules("annotator", "corpus"):
        if path not in allowed:
            assert "all_objects" not in path.read_text(), path


def test_only_the_interval_set_draws_resamples_for_an_interval():
    """Every published interval comes from interval_set.dimension_intervals
    (each coefficient by interval_policy.METHOD); a second caller of the
    bootstraps could print a different interval for the same figure. The
    bootstraps' own modules define them (bootstrap_alpha, the engine's
    percentile function, wraps bootstrap_from_parts there), and
    intervals_by_method reads every method off them for the bench."""
    agreement = ROOT / "annotator" / "agreement"
    allowed = {
        agreement / "interval_set.py",
        agreement / "intervals_by_method.py",
        agreement / "bootstrap.py",
        agreement / "kappa_bootstrap.py",
    }
    bootstraps = {"bootstrap_from_parts", "bootstrap_kappa_family", "kappa_samples"}
    for path in modules("annotator", "corpus"):
        if path in allowed:
            continue
        calls = {
            node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
        }
        assert not calls & bootstraps, (path.relative_to(ROOT), calls & bootstraps)
