"""The page in a real headless Chromium (Playwright): type a prompt, pick the quickest settings, Generate,
and check the 3D viewer, the video and the images; saves a screenshot of the page to $TEXT3D_UI_SCREENSHOT
(e.g. docs/ui.png) when that is set, else to the test's temporary folder, so a test run leaves docs/ alone."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.ui.browser import (CHROMIUM, canvas_rgb, correlation, loopback_browser, render_like_viewer, viewer_frame,
                              viewer_pose)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the Debian chromium at /usr/bin/chromium")]
OPENING_MATCH = 0.8      # least correlation of the viewer's first frame with the first view rendered from the mesh


def opening_frame_match(frame, request_dir: Path) -> float:
    """Correlation (downsampled greyscale) of the viewer's first frame with the run's mesh rendered by Open3D
    at the first view's camera, both read back from the request folder (scene.ply, transforms.json)."""
    import json

    import numpy as np
    import trimesh

    from text3d.geometry.cameras import CV_TO_GL
    from text3d.geometry.mesh import Mesh

    t = json.loads((request_dir / "transforms.json").read_text())
    K = np.array([[t["fl_x"], 0, t["cx"]], [0, t["fl_y"], t["cy"]], [0, 0, 1]])
    first = CV_TO_GL @ np.asarray(t["frames"][0]["transform_matrix"]) @ CV_TO_GL      # back to OpenCV, generation frame
    assert np.allclose(viewer_pose(frame), first, atol=1e-5), "the viewer did not open at the first camera"
    ply = trimesh.load(request_dir / "scene.ply", process=False)
    mesh = Mesh(np.asarray(ply.vertices) @ CV_TO_GL[:3, :3].T, np.asarray(ply.faces),
                np.asarray(ply.visual.vertex_colors)[:, :3] / 255.0)
    shot = canvas_rgb(frame)
    return correlation(shot, render_like_viewer(mesh, K, (t["h"], t["w"]), first, shot.shape[:2]))


def painted_view_match(frame, request_dir: Path) -> float:
    """Correlation of the viewer's current frame with the painted first view itself (views/rgb_000.png),
    leaving out the outer ring one view pixel wide: the mesh joins pixel centres, so the frame's outer half
    pixel shows the background."""
    import numpy as np
    from PIL import Image

    painted = np.asarray(Image.open(request_dir / "views" / "rgb_000.png").convert("RGB"))
    shot = canvas_rgb(frame)
    dy, dx = round(shot.shape[0] / painted.shape[0]), round(shot.shape[1] / painted.shape[1])
    return correlation(shot[dy:-dy, dx:-dx], painted[1:-1, 1:-1])


def recording_progress(generate_fn, stages: list[str]):
    """``generate_fn`` whose progress reports are appended to ``stages`` and each linger a moment, so the browser
    can see the stages."""
    def generate(*args, progress, **kwargs):
        def report(stage: str, fraction: float) -> None:
            stages.append(stage)
            progress(stage, fraction)
            time.sleep(0.05)

        return generate_fn(*args, progress=report, **kwargs)

    return generate


def check_empty_prompt_error(page) -> None:
    """Generate with nothing typed shows a readable error (no traceback) in a toast; closes the toast."""
    from playwright.sync_api import expect

    page.locator("#generate").click()
    toast = page.locator("[data-testid=toast-body]")
    expect(toast).to_contain_text("the prompt is empty", timeout=30_000)
    assert "Traceback" not in page.content()
    toast.locator("[data-testid=toast-close]").click()
    expect(toast).to_have_count(0)


def choose_quickest_settings(page, prompt: str) -> None:
    """Type ``prompt`` and pick, in "Advanced settings", the fast preset, the walk trajectory, 2 views, 1 step."""
    from playwright.sync_api import expect

    page.locator("#prompt textarea").fill(prompt)
    page.locator("#advanced button.label-wrap").click()          # open "Advanced settings"
    page.locator("#preset input").click()
    page.get_by_role("option", name="fast", exact=True).click()
    page.locator("#trajectory input").click()
    page.get_by_role("option", name="walk", exact=True).click()
    for elem, value in (("#views", "2"), ("#steps", "1")):
        field = page.locator(f"{elem} input[type=number]")
        field.fill(value)
        field.press("Enter")
    expect(page.locator("#preset input")).to_have_value("fast")
    expect(page.locator("#trajectory input")).to_have_value("walk")


def check_results_shown(page, url: str) -> None:
    """While the run goes, per-stage progress shows; then the 3D viewer, an mp4 video served at its src, the
    three images, the downloads and a summary of the chosen settings (seed 0, walk, 2 views)."""
    from playwright.sync_api import expect

    # Per-stage progress shows while it runs (the stage name is the progress description).
    tracker = page.locator("#first-view [data-testid=status-tracker]")
    expect(tracker).to_contain_text(re.compile(r"(first view|views|fusion|export|video) - \d+(\.\d+)?%"),
                                    timeout=60_000)
    expect(page.locator("#model3d iframe")).to_be_visible(timeout=90_000)
    video = page.locator("#video video")
    expect(video).to_have_attribute("src", re.compile(r"\S+"), timeout=30_000)
    src = video.get_attribute("src")
    assert src, "the video element has no src"
    response = page.request.get(src if src.startswith("http") else url.rstrip("/") + src)
    assert response.ok and response.body()[4:8] == b"ftyp", "the video src does not serve an mp4"
    assert response.headers["content-type"] == "video/mp4"
    for elem in ("#first-view", "#depth", "#uncertainty"):
        expect(page.locator(f"{elem} img")).to_be_visible()
    expect(page.locator("#downloads")).to_contain_text("a-cozy-library-with-wooden-shelves-seed0")
    expect(page.locator("#summary")).to_contain_text("seed 0")
    expect(page.locator("#summary")).to_contain_text("walk, 2 views")    # the chosen settings ran


def check_viewer_opens_at_first_camera(page, demo) -> None:
    """The 3D viewer, large enough, opens inside the scene at the first camera: its first frame matches the mesh
    rendered there and the painted first view (correlation at least ``OPENING_MATCH``)."""
    frame = viewer_frame(page)
    box = frame.locator("#view").bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200
    request_dir = next(demo.text3d_store.root.glob("*/transforms.json")).parent
    score = opening_frame_match(frame, request_dir)
    painted = painted_view_match(frame, request_dir)
    print(f"opening frame vs the mesh rendered at the first camera: correlation {score:.3f}; "
          f"vs the painted first view: {painted:.3f}")
    assert score >= OPENING_MATCH and painted >= OPENING_MATCH


def save_screenshot(page, shot: Path) -> None:
    """A screenshot of the whole page at ``shot`` (its folder made if needed), written under a temporary name
    first."""
    shot.parent.mkdir(parents=True, exist_ok=True)
    tmp = shot.with_name(f".ui.{os.getpid()}.png")
    page.screenshot(path=str(tmp))
    os.replace(tmp, shot)


def test_generate_in_the_browser(tmp_path, ui_tools):
    """An empty prompt gives a readable error; a prompt with the quickest settings runs to the results, and the
    3D viewer opens at the first camera; every stage reported progress and nothing was loaded from outside."""
    from playwright.sync_api import sync_playwright

    from text3d.ui.server import STAND_IN_BANNER

    stages: list[str] = []
    generate_fn = recording_progress(ui_tools.fast_generate, stages)
    with ui_tools.serve(tmp_path / "app", generate_fn=generate_fn, banner=STAND_IN_BANNER) \
            as (url, demo, _), \
            sync_playwright() as pw, \
            loopback_browser(pw, tmp_path / "profile", {"width": 1400, "height": 1500}) as (context, outside, _):
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(url)
        check_empty_prompt_error(page)
        choose_quickest_settings(page, "a cozy library with wooden shelves")
        page.locator("#generate").click()
        check_results_shown(page, url)
        check_viewer_opens_at_first_camera(page, demo)
        shot = Path(os.environ.get("TEXT3D_UI_SCREENSHOT") or tmp_path / "ui.png")
        save_screenshot(page, shot)
        assert shot.stat().st_size > 10_000
    assert {"first view", "views", "video"} <= set(stages)
    assert not outside, f"the page tried to load from outside the machine: {outside}"


@pytest.mark.slow
def test_shipped_models_open_on_the_painted_first_view(tmp_path, ui_tools):
    """The page with the shipped models and default settings, as a visitor uses it (about a minute on CPU).

    ``RUN_SLOW=1 TEXT3D_UI_SHIPPED_SCREENSHOT=docs/ui.png pytest tests/ui/test_browser.py -k shipped -s``
    makes the README's screenshot."""
    from playwright.sync_api import expect, sync_playwright

    import text3d

    prompt = "a cozy library with tall wooden shelves"
    with ui_tools.serve(tmp_path / "app", generate_fn=text3d.generate_scene, backends=None) as (url, demo, _), \
            sync_playwright() as pw, \
            loopback_browser(pw, tmp_path / "profile", {"width": 1400, "height": 1500}) as (context, outside, _):
        demo.text3d_pool.warm(demo.text3d_settings.default_preset)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(url)
        page.locator("#prompt textarea").fill(prompt)
        page.locator("#generate").click()
        expect(page.locator("#summary")).to_contain_text("faces", timeout=900_000)
        expect(page.locator("#summary")).to_contain_text("Models: t2i: embedded")
        frame = viewer_frame(page)
        request_dir = next(demo.text3d_store.root.glob("*/transforms.json")).parent
        score, painted = opening_frame_match(frame, request_dir), painted_view_match(frame, request_dir)
        print(f"shipped models: opening frame vs the mesh at the first camera {score:.3f}, "
              f"vs the painted first view {painted:.3f}")
        assert score >= OPENING_MATCH and painted >= OPENING_MATCH
        save_screenshot(page, Path(os.environ.get("TEXT3D_UI_SHIPPED_SCREENSHOT") or tmp_path / "ui.png"))
    assert not outside, f"the page tried to load from outside the machine: {outside}"
