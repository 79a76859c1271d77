"""Imports run one way: the app -> the embedded image models (text3d.models) -> depthgen."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# every part of text3d but the embedded models (text3d.models): the app
APP = ("text3d.geometry", "text3d.run", "text3d.backends", "text3d.ui", "text3d.cli", "text3d.generate",
       "text3d.config", "text3d.fakes", "app")


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_models_never_import_the_app():
    bad = {str(p.relative_to(ROOT)): sorted(n for n in imported(p) if n.startswith(APP))
           for p in (ROOT / "text3d" / "models").rglob("*.py")}
    assert not {k: v for k, v in bad.items() if v}


def test_depthgen_never_imports_text3d():
    bad = {str(p.relative_to(ROOT)): sorted(n for n in imported(p) if n.split(".")[0] == "text3d")
           for p in (ROOT / "depthgen").rglob("*.py")}
    assert not {k: v for k, v in bad.items() if v}


def test_geometry_is_pure():
    """text3d.geometry (functions on arrays) imports no other part of text3d: no run, backend, model or UI."""
    bad = {str(p.relative_to(ROOT)): sorted(n for n in imported(p)
                                            if n.split(".")[0] == "text3d" and not n.startswith("text3d.geometry"))
           for p in (ROOT / "text3d" / "geometry").rglob("*.py")}
    assert not {k: v for k, v in bad.items() if v}
