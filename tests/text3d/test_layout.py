"""text3d is laid out by job (geometry, run, backends, models, ui) behind a few top-level modules."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEXT3D = ROOT / "text3d"


def test_text3d_has_at_most_12_top_level_modules():
    modules = sorted(p.name for p in TEXT3D.glob("*.py"))
    assert "__init__.py" in modules and len(modules) <= 12, modules


def test_the_job_packages_exist():
    for package in ("geometry", "run", "backends", "models", "ui"):
        assert (TEXT3D / package / "__init__.py").is_file(), package


def test_generate_names_one_thing():
    """``text3d.generate`` is the module behind ``python -m text3d.generate``; the API function is generate_scene."""
    import text3d
    import text3d.generate
    from text3d.cli import main

    assert text3d.generate.main is main and not callable(text3d.generate)
    assert text3d.generate_scene.__module__ == "text3d.run.api"
