"""The pure packages import nothing from CKAN (nor Flask or SQLAlchemy): the fee engine, the
domain rules and the search parser and backend Protocol, read from each file's syntax tree."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "ckanext-sanyi" / "ckanext" / "sanyi"
PURE = sorted([*(ROOT / "feeengine").glob("*.py"), *(EXT / "domain").glob("*.py"),
               EXT / "search" / "syntax.py", EXT / "search" / "backend.py"])
FORBIDDEN = ("ckan", "flask", "sqlalchemy")
# the only extension code they may use is other pure code
ALLOWED_EXT = ("ckanext.sanyi.domain",)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_the_pure_files_are_found():
    assert len(PURE) > 10 and all(p.exists() for p in PURE)


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_nothing_from_ckan(path):
    bad = [n for n in _imports(path)
           if n.split(".")[0] in FORBIDDEN
           or (n.startswith("ckanext") and not n.startswith(ALLOWED_EXT))]
    assert bad == []


def test_the_check_sees_a_ckan_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import os\nfrom ckan.plugins import toolkit\n")
    assert "ckan.plugins" in _imports(probe)
