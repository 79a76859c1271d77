"""The UI's parts without a server: request folders and their clean-up, the zip, upload checks, progress,
and the command line."""

from __future__ import annotations

import os
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from text3d.ui.inputs import check_image, check_request
from text3d.ui.settings import UISettings
from text3d.ui.storage import OutputStore, zip_folder


def test_request_folders_are_unique_and_expire(tmp_path):
    store = OutputStore(tmp_path / "requests", retention_s=60)
    a, b = store.new_request_path(), store.new_request_path()
    assert a != b and a.parent == b.parent == store.root and not a.exists()     # the run makes its folder
    a.mkdir(), b.mkdir()
    old = time.time() - 120
    os.utime(a, (old, old))                       # a is two minutes old, b is fresh
    assert store.cleanup() == [a]
    assert not a.exists() and b.exists()
    assert store.cleanup(now=time.time() + 61) == [b]
    outside = tmp_path / "keep"
    outside.mkdir()
    store.discard(outside)                         # only folders directly under the root are ever deleted
    assert outside.exists()


def test_janitor_sweeps_in_the_background(tmp_path):
    store = OutputStore(tmp_path / "requests", retention_s=0.2)
    folder = store.new_request_path()
    folder.mkdir()
    store.start_janitor(interval_s=0.05)
    try:
        deadline = time.monotonic() + 5
        while folder.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not folder.exists()
    finally:
        store.stop_janitor()


def test_zip_holds_every_output_and_not_itself(tmp_path):
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "rgb_000.png").write_bytes(b"png")
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / ".scene.tmp.ply").write_bytes(b"half-written")
    archive = zip_folder(tmp_path, tmp_path / "all.zip")
    zip_folder(tmp_path, archive)                  # zipping again does not nest the old zip
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == ["manifest.json", "views/rgb_000.png"]
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_sizes_read_like_a_file_browser():
    from text3d.ui.inputs import human_size

    assert [human_size(n) for n in (0, 1023, 1536, 10 * 2**20, 3 * 2**30 + 2**29)] == \
        ["0 bytes", "1023 bytes", "1.5 KB", "10 MB", "3.5 GB"]


def test_upload_checks_name_the_problem(tmp_path):
    settings = UISettings(work_dir=tmp_path, max_upload_bytes=5000, max_upload_pixels=100 * 100)
    ok = tmp_path / "ok.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 30, 3), np.uint8)).save(ok)
    assert check_image(ok, settings) == ok
    cases = {"big.png": (np.random.default_rng(0).bytes(6000), "too large \\(5.9 KB\\); upload one of at most 4.9 KB"),
             "empty.png": (b"", "empty"),
             "cut.png": (ok.read_bytes()[: ok.stat().st_size // 2], "not a readable image"),
             "notes.png": (b"hello", "not a readable image")}
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=message):
            check_image(tmp_path / name, settings)
    with pytest.raises(ValueError, match="could not be found"):
        check_image(tmp_path / "gone.png", settings)
    req = check_request("", ok, "fast", "walk", 3, 0, 0, settings)          # a photo needs no prompt
    assert req.image == ok and req.prompt == "" and req.views == 3 and req.steps is None


def test_progress_reaches_the_page_stage_by_stage(tmp_path):
    from text3d.fakes import fake_backends
    from text3d.ui.handlers import run_generation
    from text3d.ui.models import BackendPool

    settings = UISettings(work_dir=tmp_path)
    store = OutputStore(settings.requests_dir, settings.retention_s)
    req = check_request("a red barn", None, "fast", "walk", 2, 3, 1, settings)
    reports: list[tuple[float, str]] = []

    def generate(*args, **kwargs):
        import text3d

        return text3d.generate_scene(*args, overrides=("cleanup.views=0", "video.frames=4", *kwargs.pop("overrides", ())),
                               **kwargs)

    outputs = run_generation(req, generate_fn=generate, pool=BackendPool(fixed=fake_backends()), store=store,
                             settings=settings, report=lambda f, stage: reports.append((f, stage)))
    stages = [s for _, s in reports]
    fractions = [f for f, _ in reports]
    assert stages[0] == "loading models" and stages[-1] == "packing downloads"
    assert {"first view", "views", "fusion", "export", "video"} <= set(stages)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert outputs[3].endswith("scene.glb") and "seed 3" in outputs[-1]


def test_command_line_refuses_bad_flags_in_one_line(capsys):
    from text3d.ui.server import main, parse_args, settings_from_args

    assert main(["--preset", "no-such-preset", "--stand-in-models"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown preset 'no-such-preset'" in err[0]
    assert main(["--concurrency", "0", "--stand-in-models"]) == 2
    assert "concurrency must be at least 1" in capsys.readouterr().err
    s = settings_from_args(parse_args(["--preset", "fast", "--presets", "default", "--keep-minutes", "2",
                                       "--max-upload-mb", "1.5", "--concurrency", "2"]))
    assert s.presets == ("fast", "default") and s.default_preset == "fast" and s.concurrency == 2
    assert s.retention_s == 120 and s.max_upload_bytes == int(1.5 * 2**20) and s.banner == ""


def test_summary_names_the_retrieved_layout_of_the_first_view():
    from types import SimpleNamespace

    from text3d.ui.handlers import summary_markdown
    from text3d.ui.inputs import Request

    req = Request("a cozy library", None, "fast", "orbit", None, 0, None)
    start = {"layout_strength": 0.6, "layout": {"bank_index": 7, "scene_type": "library", "training_index": 7}}
    painted = SimpleNamespace(views=[1, 2], timings={"total": 3.0}, manifest={"first_view": start})
    text = summary_markdown(req, painted, "embedded")
    assert "retrieved *library* training layout (scene 7, layout strength 0.6)" in text and "seed 0" in text
    plain = SimpleNamespace(views=[1], timings={}, manifest={"first_view": {"layout_strength": 1.0}})
    assert "layout" not in summary_markdown(req, plain, "embedded")
    assert "layout" not in summary_markdown(req, SimpleNamespace(views=[]), "sd")


def test_layout_strength_slider_reaches_the_pipeline_as_an_override(tmp_path):
    """0 keeps the model's default (no override); another value becomes ``t2i_layout_strength``."""
    from text3d.fakes import fake_backends
    from text3d.ui.handlers import run_generation
    from text3d.ui.models import BackendPool

    settings = UISettings(work_dir=tmp_path)
    seen: list[tuple] = []

    def spy(*args, overrides=(), **kwargs):
        seen.append(tuple(overrides))
        raise ValueError("stop here")

    for value, expected in [(0, ()), (None, ()), (0.35, ("t2i_layout_strength=0.35",)), (1, ("t2i_layout_strength=1",))]:
        req = check_request("a red barn", None, "fast", "walk", 2, 3, 1, settings, layout_strength=value)
        with pytest.raises(ValueError, match="stop here"):
            run_generation(req, generate_fn=spy, pool=BackendPool(fixed=fake_backends()),
                           store=OutputStore(settings.requests_dir, settings.retention_s), settings=settings,
                           report=lambda f, stage: None)
        assert seen[-1] == expected
    for bad, words in [(1.5, "between 0 and 1"), (-0.1, "between 0 and 1"), ("much", "must be a number"),
                       (float("nan"), "between 0 and 1")]:
        with pytest.raises(ValueError, match=words):
            check_request("a red barn", None, "fast", "walk", 2, 3, 1, settings, layout_strength=bad)


def test_scene_viewer_is_a_file_output_shown_in_the_bundled_viewer(tmp_path):
    from gradio.data_classes import FileData

    from text3d.ui.viewer import TEMPLATE, SceneViewer, viewer_src

    glb = tmp_path / "scene.glb"
    glb.write_bytes(b"glTF")
    viewer = SceneViewer()
    out = viewer.postprocess(str(glb))
    assert isinstance(out, FileData) and out.path == str(glb) and out.orig_name == "scene.glb"
    assert viewer.postprocess(None) is None
    assert viewer.api_info()["title"] == "FileData"        # API clients receive the .glb file, as with gr.Model3D
    assert "${viewer_src}?glb=${encodeURIComponent(value.url)}" in TEMPLATE
    assert viewer_src().startswith("gradio_api/file=") and viewer_src().endswith("/static/viewer.html")


def test_viewer_page_loads_only_bundled_files():
    """Every script the viewer page names is a file in the package; none of our files names another host."""
    import json
    import re

    from text3d.ui.settings import STATIC_DIR

    html = (STATIC_DIR / "viewer.html").read_text()
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1))["imports"]
    assert (STATIC_DIR / imports["three"]).is_file()
    addons = STATIC_DIR / imports["three/addons/"]
    js = (STATIC_DIR / "viewer.js").read_text()
    for name in re.findall(r"from 'three/addons/([^']+)'", js):
        assert (addons / name).is_file(), name
    module = (STATIC_DIR / imports["three"]).read_text()
    for name in re.findall(r'from"\./([^"]+)"', module):              # the minified build imports its core
        assert (STATIC_DIR / imports["three"]).with_name(name).is_file(), name
    for local in ("viewer.css", "viewer.js"):
        assert f'"{local}"' in html and (STATIC_DIR / local).is_file()
    for text in (html, js, (STATIC_DIR / "viewer.css").read_text()):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), "the viewer must not load from the web"
    assert "MIT License" in (STATIC_DIR / "vendor" / "three" / "LICENSE").read_text()


def _store_and_request(tmp_path):
    settings = UISettings(work_dir=tmp_path)
    return settings, OutputStore(settings.requests_dir, settings.retention_s), \
        check_request("a red barn", None, "fast", "walk", 2, 3, 1, settings)


def test_a_nearly_full_disk_refuses_a_run_before_models_load(tmp_path, monkeypatch, ui_tools):
    import re
    import shutil

    import gradio as gr

    from text3d.fakes import fake_backends
    from text3d.ui import storage
    from text3d.ui.handlers import make_generate_handler, run_generation
    from text3d.ui.models import BackendPool

    settings, store, req = _store_and_request(tmp_path)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=storage.RUN_DISK_BYTES - 1))
    loads, runs = [], []
    pool = BackendPool(load_fn=lambda preset, **kw: loads.append(preset) or fake_backends())

    def generate(*args, **kwargs):
        runs.append(kwargs)
        return ui_tools.fast_generate(*args, **kwargs)

    with pytest.raises(ValueError) as refused:
        run_generation(req, generate_fn=generate, pool=pool, store=store, settings=settings, report=lambda f, s: None)
    assert re.fullmatch(r"the server's disk is nearly full \([0-9.]+ [KMG]?B(ytes)? free, a run needs [0-9.]+ [MG]B\); "
                        r"try again later", str(refused.value)), str(refused.value)
    assert loads == runs == [] and list(store.root.iterdir()) == []
    with pytest.raises(gr.Error, match="disk is nearly full"):         # the visitor reads the same line
        make_generate_handler(generate, pool, store, settings)("a red barn", None, "fast", "walk", 2, 3, 1)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=storage.RUN_DISK_BYTES))
    run_generation(req, generate_fn=generate, pool=pool, store=store, settings=settings, report=lambda f, s: None)
    assert loads == ["fast"] and len(runs) == 1


@pytest.mark.parametrize("stage", ["video", "zip"])
def test_a_request_that_fails_leaves_nothing(tmp_path, monkeypatch, ui_tools, stage):
    """An error in the run (its staging folder is discarded) or in packing the zip after it (the request folder
    is deleted, the zip's temp file too): nothing is left under the root, hidden or not."""
    import text3d.run.api
    from text3d.fakes import fake_backends
    from text3d.ui.handlers import run_generation
    from text3d.ui.models import BackendPool

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if stage == "video":
        monkeypatch.setattr(text3d.run.api, "write_video", full_disk)
    else:
        monkeypatch.setattr(zipfile.ZipFile, "write", full_disk)
    settings, store, req = _store_and_request(tmp_path)
    with pytest.raises(OSError):
        run_generation(req, generate_fn=ui_tools.fast_generate, pool=BackendPool(fixed=fake_backends()), store=store,
                       settings=settings, report=lambda f, s: None)
    assert list(store.root.iterdir()) == []


def test_leftovers_of_dead_runs_are_swept_and_running_ones_kept(tmp_path):
    import subprocess
    import sys

    store = OutputStore(tmp_path / "requests", retention_s=60)
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout.strip()
    dead = store.root / f".20260101-000000-0123456789ab.{dead_pid}.0123abcd.partial"
    (dead / "views").mkdir(parents=True)
    running = store.root / f".20260101-000000-ba9876543210.{os.getpid()}.0123abcd.partial"
    running.mkdir()
    old = time.time() - 120
    os.utime(running, (old, old))                  # older than the retention, but its run is still going
    assert store.cleanup() == [dead] and running.exists()
    store.new_request_path()
    assert list(store.root.iterdir()) == [running]
