"""text3d is laid out by job (geometry, run, backends, models, ui) behind a few top-level modules."""

from pathlib import Path

TEXT3D = Path(__file__).resolve().parents[2] / "text3d"
JOBS = ("geometry", "run", "backends", "models", "ui")


def test_text3d_is_laid_out_by_job():
    top_level = sorted(p.name for p in TEXT3D.glob("*.py"))
    assert len(top_level) <= 12, f"text3d has {len(top_level)} top-level modules (at most 12): {top_level}"
    assert not [job for job in JOBS if not (TEXT3D / job / "__init__.py").is_file()]


def test_generate_names_one_thing():
    """``text3d.generate`` is the module behind ``python -m text3d.generate``; the API function is generate_scene."""
    import text3d
    import text3d.generate
    from text3d.cli import cli

    assert text3d.generate.cli is cli and not callable(text3d.generate)
    assert text3d.generate_scene.__module__ == "text3d.run.api"
