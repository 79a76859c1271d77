"""The docs describe the product: README size and commands, the generated settings table, no work log, no machine
paths, links that resolve, and no training logs among the shipped models."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
MAX_README_WORDS = 800
COMMANDS = ('bash scripts/install.sh && python3 -m text3d.generate "a cozy library"',
            "bash scripts/install.sh --test && python3 -m pytest -q")
SESSION = re.compile(r"\bsessions? \d+", re.IGNORECASE)
MACHINE_PATH = re.compile(r"/work/|/root/|/home/|/Users/")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def doc_files() -> list[Path]:
    """README.md, every markdown file under docs/ and every model card under assets/."""
    return [README, *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "assets").rglob("README.md"))]


def settings_table_module():
    spec = importlib.util.spec_from_file_location("settings_table", ROOT / "scripts" / "settings_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_holds_the_two_commands():
    text = README.read_text(encoding="utf-8")
    for command in COMMANDS:
        assert command in text, f"README.md lost the command {command!r}"


def test_readme_is_at_most_800_words_including_the_settings_table():
    words = len(README.read_text(encoding="utf-8").split())
    assert words <= MAX_README_WORDS, f"README.md has {words} words (at most {MAX_README_WORDS})"


def test_readme_settings_table_is_what_the_generator_makes():
    settings_table = settings_table_module()
    text = README.read_text(encoding="utf-8")
    assert settings_table.replace_table(text, settings_table.make_table()) == text, (
        "README.md's settings table is stale: run python scripts/settings_table.py --write")
    assert settings_table.main(["--check"]) == 0


def test_settings_table_lists_every_setting_of_the_run_config():
    from text3d import load_preset

    settings_table = settings_table_module()
    cfg = load_preset("default")
    table = settings_table.make_table(cfg)
    for section, _, fields in settings_table.sections(cfg):
        prefix = "" if section == settings_table.TOP else f"{section}."
        for key, default, _ in fields:
            assert f"`{prefix}{key}={default}`" in table
    # a key=value from the table is accepted by the run config as it stands
    assert load_preset("default", ["trajectory.views=3"]).trajectory.views == 3


def test_settings_check_fails_on_a_stale_table(tmp_path):
    settings_table = settings_table_module()
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n\n{settings_table.BEGIN}\n| old |\n{settings_table.END}\n", encoding="utf-8")
    assert settings_table.main(["--check", "--readme", str(stale)]) == 1
    assert settings_table.main(["--write", "--readme", str(stale)]) == 0
    assert settings_table.main(["--check", "--readme", str(stale)]) == 0
    no_markers = tmp_path / "other.md"
    no_markers.write_text("# no table here\n", encoding="utf-8")
    assert settings_table.main(["--check", "--readme", str(no_markers)]) == 2


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_hold_no_work_log_and_no_machine_path(path):
    text = path.read_text(encoding="utf-8")
    for pattern, what in ((SESSION, "a work-log 'session N' entry"), (MACHINE_PATH, "an absolute machine path")):
        hits = [m.group(0) for m in pattern.finditer(text)]
        assert not hits, f"{path.relative_to(ROOT)} holds {what}: {hits[:5]}"


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_in_docs_resolve(path):
    text = path.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        assert (path.parent / target.split("#", 1)[0]).exists(), f"{path.relative_to(ROOT)} links to {target}"


def test_training_logs_are_kept_with_the_training_records_not_the_models():
    logs = sorted(p.relative_to(ROOT) for p in (ROOT / "assets").rglob("*.csv"))
    assert not logs, f"training logs belong in docs/training/logs/<model>/, not assets/: {logs}"
    assert any((ROOT / "docs" / "training" / "logs").rglob("*.csv"))


def architecture_paths() -> list[Path]:
    """Every path the code block of ARCHITECTURE.md's "Packages" section names. A line starting at the margin
    names a top-level folder or file, one indented by two spaces a package of it; the names after it, one per
    "·"-separated item (the first word; words in parentheses describe), are modules (``name.py``) or, with a
    slash, folders of that package. More deeply indented lines continue the line above."""
    section = ARCHITECTURE.read_text(encoding="utf-8").split("\n## Packages\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    while re.search(r"\([^()]*\)", block):
        block = re.sub(r"\([^()]*\)", "", block)  # descriptions, innermost first
    paths: list[Path] = []
    top = base = ROOT
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        items = line.strip()
        if indent in (0, 2):
            head, _, items = items.partition(" ")
            base = (ROOT if indent == 0 else top) / head.rstrip("/")
            top = base if indent == 0 else top
            paths.append(base)
        for item in filter(None, (i.strip() for i in items.split("·"))):
            name = item.split()[0]
            paths.append(base / name.rstrip("/") if name.endswith("/") else base / f"{name}.py")
    return paths


def test_every_path_of_the_architecture_package_section_exists():
    paths = architecture_paths()
    named = {p.relative_to(ROOT).as_posix() for p in paths}
    assert len(paths) > 100 and {"text3d/run/views.py", "depthgen/models/unet.py", "app.py"} <= named
    missing = sorted(p.relative_to(ROOT).as_posix() for p in paths if not p.exists())
    assert not missing, f"docs/ARCHITECTURE.md names paths that do not exist: {missing}"
