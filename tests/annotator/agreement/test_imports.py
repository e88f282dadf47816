"""The engine stays pure maths, and only its public names are used outside it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ENGINE = ROOT / "annotator" / "agreement"


def _imports(path: Path) -> Iterator[tuple[str, str | None]]:
    """(module, imported name or None) of every absolute import in a file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                yield node.module, alias.name


def test_the_engines_and_gold_maths_never_import_django():
    # Another annotator module would bring Django in with it.
    for package in (ENGINE, ROOT / "annotator" / "gold_maths"):
        own = f"annotator.{package.name}"
        for path in package.glob("*.py"):
            for module, _ in _imports(path):
                outside = module.startswith("annotator") and not (
                    module == own or module.startswith(own + ".")
                )
                assert not (module.startswith(("django", "corpus")) or outside), (
                    f"{path.relative_to(ROOT)} imports {module}"
                )


def test_code_outside_the_engine_imports_only_its_public_names():
    for top in ("annotator", "bench", "tests"):
        for path in (ROOT / top).rglob("*.py"):
            if ENGINE in path.parents:
                continue
            for module, name in _imports(path):
                parts = module.split(".")
                if parts[:2] != ["annotator", "agreement"]:
                    continue
                private = [p for p in parts if p.startswith("_")]
                if name is not None and name.startswith("_"):
                    private.append(name)
                assert not private, f"{path.relative_to(ROOT)}: {module} {name}"
