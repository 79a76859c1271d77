"""The web UI through its HTTP API (gradio_client): a full run, error messages, the queue, served files."""

from __future__ import annotations

import json
import threading
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

ARGS = ("fast", "walk", 2, 0, 1)        # preset, trajectory, views, seed, steps: the quickest settings


def _app_error(excinfo) -> str:
    from gradio_client.exceptions import AppError

    assert isinstance(excinfo.value, AppError), f"expected a gr.Error, got {excinfo.value!r}"
    message = str(excinfo.value)
    assert "Traceback" not in message and 'File "' not in message
    return message


def test_generate_returns_every_output(shared_app, tmp_path, ui_tools):
    url, demo, _ = shared_app
    first, depth, unc, glb, mp4, downloads, summary = ui_tools.client(url, tmp_path).predict(
        "a cozy library", None, *ARGS, api_name="/generate")
    for path in (first, depth, unc):
        with Image.open(path) as im:
            assert im.size == (64, 64)           # the fast preset's view size
    assert Path(glb).read_bytes()[:4] == b"glTF"
    assert Path(mp4).read_bytes()[4:8] == b"ftyp"
    names = sorted(Path(d).name for d in downloads)
    assert names == sorted(["scene.ply", "scene.glb", "scene.mp4", "a-cozy-library-seed0.zip"])
    with zipfile.ZipFile(next(d for d in downloads if d.endswith(".zip"))) as zf:
        listed = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert {"scene.ply", "scene.glb", "scene.mp4", "points.ply", "transforms.json", "views/rgb_000.png"} <= listed
    assert manifest["prompt"] == "a cozy library" and manifest["seed"] == 0
    assert "seed 0" in summary and "a cozy library" in summary
    # The outputs were made in a per-request folder under the app's requests root.
    folders = [p for p in demo.text3d_store.root.iterdir() if (p / "manifest.json").is_file()]
    assert folders and all(p.parent == demo.text3d_store.root for p in folders)


def test_empty_prompt_is_a_readable_error(shared_app, tmp_path, ui_tools):
    url, _, _ = shared_app
    with pytest.raises(Exception) as excinfo:
        ui_tools.client(url, tmp_path).predict("   ", None, *ARGS, api_name="/generate")
    assert "prompt is empty" in _app_error(excinfo)


def test_pipeline_refusals_reach_the_visitor_readably(shared_app, tmp_path, ui_tools):
    """A setting the pipeline itself refuses (its ValueError) arrives as its one-line message."""
    url, _, probe = shared_app
    with pytest.raises(Exception) as excinfo:          # the stand-in text-to-image model takes no layout strength
        ui_tools.client(url, tmp_path).predict("a room", None, *ARGS, 0.5, api_name="/generate")
    assert "embedded text-to-image model only" in _app_error(excinfo)
    with pytest.raises(Exception) as excinfo:          # 2 orbit views of the fast preset do not overlap
        ui_tools.client(url, tmp_path).predict("a room", None, "fast", "orbit", 2, 0, 1, api_name="/generate")
    message = _app_error(excinfo)
    assert "views" in message and len(message.splitlines()) == 1


def test_unreadable_upload_is_a_readable_error(shared_app, tmp_path, ui_tools):
    from gradio_client import handle_file

    url, _, _ = shared_app
    bad = tmp_path / "holiday.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a picture")
    client = ui_tools.client(url, tmp_path / "dl")
    with pytest.raises(Exception) as excinfo:
        client.predict("", handle_file(str(bad)), *ARGS, api_name="/generate")
    assert "not a readable image" in _app_error(excinfo)
    with pytest.raises(Exception) as excinfo:         # the upload preview says the same, before Generate
        client.predict(handle_file(str(bad)), api_name="/check_photo")
    assert "not a readable image" in _app_error(excinfo)


def test_oversize_upload_is_refused(shared_app, tmp_path, ui_tools):
    """Bytes over the limit: the server refuses the upload; pixels over the limit: a gr.Error."""
    from gradio_client import handle_file

    url, demo, _ = shared_app
    limit = demo.text3d_settings.max_upload_bytes
    big = tmp_path / "big.png"
    big.write_bytes(np.random.default_rng(0).bytes(limit + 1))
    client = ui_tools.client(url, tmp_path / "dl")
    with pytest.raises(ValueError, match="exceeds the maximum file size"):   # gradio_client checks first
        client.predict("", handle_file(str(big)), *ARGS, api_name="/generate")
    with big.open("rb") as f:                                                 # a raw client gets 413
        r = httpx.post(f"{url}gradio_api/upload", files={"files": ("big.png", f, "image/png")}, timeout=30)
    assert r.status_code == 413 and "maximum allowed size" in r.text

    wide = tmp_path / "wide.png"                       # few bytes but too many pixels (decompression bomb)
    Image.new("RGB", (1024, 1024), (200, 100, 50)).save(wide)
    assert wide.stat().st_size < limit
    with pytest.raises(Exception) as excinfo:
        client.predict("", handle_file(str(wide)), *ARGS, api_name="/generate")
    assert "too large (1024x1024 pixels)" in _app_error(excinfo)


def test_photo_to_3d(shared_app, tmp_path, ui_tools):
    from gradio_client import handle_file

    url, _, _ = shared_app
    photo = tmp_path / "room.png"
    Image.fromarray((np.random.default_rng(1).random((48, 80, 3)) * 255).astype(np.uint8)).save(photo)
    client = ui_tools.client(url, tmp_path / "dl")
    assert Path(client.predict(handle_file(str(photo)), api_name="/check_photo")).is_file()
    first, *_rest, summary = client.predict("", handle_file(str(photo)), *ARGS, api_name="/generate")
    with Image.open(first) as im:
        assert im.size == (64, 64)                      # centre-cropped and resized to the view size
    assert "photo `room.png`" in summary


def test_out_of_range_settings_are_refused(shared_app, tmp_path, ui_tools):
    """Gradio checks the slider/number bounds; what it lets through, our checks refuse by name."""
    from text3d.ui.inputs import check_request

    url, demo, _ = shared_app
    settings = demo.text3d_settings
    client = ui_tools.client(url, tmp_path)
    with pytest.raises(Exception) as excinfo:
        client.predict("a room", None, "fast", "orbit", settings.max_views + 1, 0, 1, api_name="/generate")
    assert "greater than maximum value 16" in _app_error(excinfo)
    with pytest.raises(Exception) as excinfo:
        client.predict("a room", None, "fast", "orbit", 2, -3, 1, api_name="/generate")
    assert "less than minimum value 0" in _app_error(excinfo)
    with pytest.raises(Exception) as excinfo:
        client.predict("a room", None, "ultra", "orbit", 2, 0, 1, api_name="/generate")
    assert "ultra" in _app_error(excinfo)
    for bad, words in [(dict(views=17), "views must be between 1 and 16"), (dict(seed=-3), "seed must be"),
                       (dict(seed=1.5), "seed must be a whole number"), (dict(seed=None), "seed is empty"),
                       (dict(steps=101), "steps must be between"), (dict(trajectory="spiral"), "spiral"),
                       (dict(prompt="x" * 501), "prompt is too long")]:
        form = dict(prompt="a room", image=None, preset="fast", trajectory="orbit", views=2, seed=0, steps=1)
        form.update(bad)
        with pytest.raises(ValueError, match=words):
            check_request(**form, settings=settings)
    req = check_request("  a room ", None, None, None, 0, 7.0, 0, settings)
    assert (req.prompt, req.preset, req.trajectory, req.views, req.seed, req.steps) == \
        ("a room", settings.default_preset, "orbit", None, 7, None)


def test_two_requests_at_once_wait_in_line(shared_app, tmp_path, ui_tools):
    """Both complete, in their own folders, and the concurrency limit (1) is never exceeded."""
    url, demo, probe = shared_app
    client = ui_tools.client(url, tmp_path)
    before = probe.calls
    jobs = [client.submit(p, None, *ARGS, api_name="/generate") for p in ("a red barn", "a blue boat")]
    results = [job.result(timeout=120) for job in jobs]
    assert probe.calls - before == 2 and probe.max_running == 1
    zips = [Path(next(d for d in r[5] if d.endswith(".zip"))).name for r in results]
    assert zips == ["a-red-barn-seed0.zip", "a-blue-boat-seed0.zip"]


def test_full_queue_turns_visitors_away_readably(tmp_path, ui_tools):
    """With one run going and queue_size waiting, the next visitor gets a 'queue is full' message."""
    started, release = threading.Event(), threading.Event()

    def slow_generate(*args, **kwargs):
        started.set()
        release.wait(30)
        return ui_tools.fast_generate(*args, **kwargs)

    with ui_tools.serve(tmp_path / "app", generate_fn=slow_generate, concurrency=1, queue_size=1) as (url, _, _):
        client = ui_tools.client(url, tmp_path / "dl")
        running = client.submit("first", None, *ARGS, api_name="/generate")
        ui_tools.wait_until(started.is_set, what="the first run to start")
        waiting = client.submit("second", None, *ARGS, api_name="/generate")
        ui_tools.wait_until(lambda: waiting.status().code.name == "IN_QUEUE", what="the second run to queue")
        refused = client.submit("third", None, *ARGS, api_name="/generate")
        with pytest.raises(Exception, match="(?i)queue is full"):
            refused.result(timeout=30)
        release.set()
        assert running.result(timeout=120)[3].endswith("scene.glb")
        assert waiting.result(timeout=120)[3].endswith("scene.glb")


def test_server_error_is_brief_and_cleans_up(tmp_path, ui_tools):
    def broken_generate(*args, out_dir, **kwargs):           # not all or nothing: leaves a folder behind
        Path(out_dir).mkdir()
        (Path(out_dir) / "partial.bin").write_bytes(b"x")
        raise RuntimeError("CUDA out of memory at /secret/path/model.py:42")

    with ui_tools.serve(tmp_path / "app", generate_fn=broken_generate) as (url, demo, _):
        with pytest.raises(Exception) as excinfo:
            ui_tools.client(url, tmp_path / "dl").predict("a room", None, *ARGS, api_name="/generate")
        message = _app_error(excinfo)
        assert "RuntimeError" in message and "/secret/path" not in message
        assert list(demo.text3d_store.root.iterdir()) == []          # the failed request's folder is gone


def test_models_load_once_for_many_requests(tmp_path, ui_tools):
    from text3d.fakes import fake_backends

    loads = []

    def load(preset, device, t2i, inpaint, depth):
        assert (t2i, inpaint, depth) == ("embedded", "embedded", "embedded")
        loads.append(preset)
        return fake_backends()

    with ui_tools.serve(tmp_path / "app", backends=None) as (url, demo, _):
        demo.text3d_pool.load_fn = load
        client = ui_tools.client(url, tmp_path / "dl")
        for preset in ("fast", "pixel", "fast"):          # both presets name the same (embedded) models
            client.predict("a room", None, preset, "walk", 2, 0, 1, api_name="/generate")
    assert loads == ["fast"] and demo.text3d_pool.loads == 1


def test_only_request_folders_are_served(shared_app, tmp_path, ui_tools):
    url, demo, _ = shared_app
    glb = ui_tools.client(url, tmp_path).predict("a garden", None, *ARGS, api_name="/generate")[3]
    assert Path(glb).is_file()
    repo_file = Path(__file__).resolve()
    for outside in (repo_file, Path("/etc/hostname"), demo.text3d_store.root.parent):
        r = httpx.get(f"{url}gradio_api/file={outside}", timeout=10)
        assert r.status_code in (403, 404), f"{outside} was served ({r.status_code})"
    inside = next(demo.text3d_store.root.glob("*/scene.glb"))
    assert httpx.get(f"{url}gradio_api/file={inside}", timeout=10).status_code == 200


def test_concurrency_probe_counts_overlap(ui_tools):
    """The probe used above really detects overlapping calls (so max_running == 1 means something)."""
    gate = threading.Barrier(2)
    probe = ui_tools.Probe(lambda: gate.wait(5))
    threads = [threading.Thread(target=probe) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert probe.max_running == 2
