"""depthgen is laid out by job (common, models, training, evaluation, data) behind a few thin entry points."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPTHGEN = ROOT / "depthgen"


def depthgen_imports(path: Path) -> set[str]:
    """The ``depthgen.*`` modules a file imports (at any depth: lazy imports count)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in names if n.startswith("depthgen.")}


def test_depthgen_has_at_most_8_top_level_modules():
    modules = sorted(p.name for p in DEPTHGEN.glob("*.py"))
    assert "__init__.py" in modules and len(modules) <= 8, modules


def test_the_job_packages_exist():
    for package in ("common", "models", "training", "evaluation", "data"):
        assert (DEPTHGEN / package / "__init__.py").is_file(), package


def test_public_entry_points_import():
    import depthgen
    import depthgen.evaluate
    import depthgen.train

    assert depthgen.DepthGenPipeline.__name__ == "DepthGenPipeline"
    assert depthgen.DepthGenOutput.__name__ == "DepthGenOutput"
    assert depthgen.PalettePipeline.__name__ == "PalettePipeline"
    assert callable(depthgen.train.main) and callable(depthgen.evaluate.main)


@pytest.mark.parametrize("package, forbidden", [
    ("common", ("depthgen.models", "depthgen.training", "depthgen.evaluation", "depthgen.data")),
    ("models", ("depthgen.training", "depthgen.evaluation")),
])
def test_imports_run_one_way_inside_depthgen(package, forbidden):
    """The shared home needs nothing else of depthgen; the networks and pipelines need no training or evaluation."""
    bad = {str(p.relative_to(ROOT)): sorted(n for n in depthgen_imports(p) if n.startswith(forbidden))
           for p in (DEPTHGEN / package).rglob("*.py")}
    assert not {k: v for k, v in bad.items() if v}


@pytest.mark.parametrize("module", ["depthgen.train", "depthgen.evaluate", "depthgen.data.procedural"])
def test_command_lines_answer_help(module):
    res = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"usage: python -m {module}" in res.stdout
