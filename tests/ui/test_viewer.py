"""The first-person 3D viewer in a real headless Chromium (Playwright), on a scene built here: a closed box
room whose walls carry distinct colour patterns, written with ``write_mesh_glb`` and four cameras. What the
canvas shows is compared with the same mesh rendered by Open3D at the viewer's camera."""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

from tests.ui.browser import (CHROMIUM, canvas_rgb, correlation, loopback_browser, press_and_wait_for_move,
                              render_like_viewer, settle, viewer_frame, viewer_pose)
from text3d.geometry.cameras import intrinsics_from_fov, yaw_pitch_pose
from text3d.geometry.mesh import Mesh, concat_meshes

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the Debian chromium at /usr/bin/chromium")]

VIEW_SIZE = (64, 96)                                  # (H, W): a wide view, so the aspect ratio matters
K = intrinsics_from_fov(60.0, VIEW_SIZE[1], VIEW_SIZE[0])
POSES = [yaw_pitch_pose(np.zeros(3), 0.0), yaw_pitch_pose(np.zeros(3), 90.0),
         yaw_pitch_pose(np.array([0.5, 0.2, -0.5]), 180.0, 10.0),
         yaw_pitch_pose(np.array([-0.8, 0.0, 0.8]), -60.0, -15.0)]
MATCH = 0.8                                           # least correlation of a frame with the render at its pose


def _wall(origin, u, v, freq: tuple[float, float], hue: tuple[float, float, float], n: int = 40) -> Mesh:
    """A grid of (n, n) vertices spanning origin + s u + t v, coloured by stripes of frequency freq."""
    s, t = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    pts = np.asarray(origin) + s[..., None] * np.asarray(u) + t[..., None] * np.asarray(v)
    shade = 0.5 + 0.25 * np.sin(2 * math.pi * freq[0] * s) + 0.2 * np.cos(2 * math.pi * freq[1] * t + s * 3)
    colors = np.clip(shade[..., None] * np.asarray(hue) + 0.1, 0, 1)
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel()
    faces = np.concatenate([np.stack([a, b, c], 1), np.stack([b, d, c], 1)])
    return Mesh(pts.reshape(-1, 3), faces, colors.reshape(-1, 3))


def box_room() -> Mesh:
    """A 4 x 3 x 4.5 m room around the origin (OpenCV frame: y down), each wall with its own pattern."""
    x0, x1, y0, y1, z0, z1 = -2.0, 2.0, -1.5, 1.5, -2.0, 2.5
    return concat_meshes([
        _wall([x0, y0, z1], [4, 0, 0], [0, 3, 0], (3, 1), (1.0, 0.45, 0.2)),       # front (+z)
        _wall([x1, y0, z0], [0, 0, 4.5], [0, 3, 0], (1, 4), (0.2, 0.8, 0.4)),      # right (+x)
        _wall([x0, y0, z0], [4, 0, 0], [0, 3, 0], (5, 2), (0.3, 0.4, 1.0)),        # back (-z)
        _wall([x0, y0, z0], [0, 0, 4.5], [0, 3, 0], (2, 6), (0.9, 0.9, 0.3)),      # left (-x)
        _wall([x0, y1, z0], [4, 0, 0], [0, 0, 4.5], (4, 4), (0.6, 0.3, 0.7)),      # floor (+y)
        _wall([x0, y0, z0], [4, 0, 0], [0, 0, 4.5], (1, 1), (0.8, 0.8, 0.8)),      # ceiling (-y)
    ])


@pytest.fixture(scope="module")
def viewer(tmp_path_factory, ui_tools):
    """(page, viewer frame, mesh, urls requested, urls refused) with the box room open in the viewer."""
    from playwright.sync_api import sync_playwright

    from text3d.run.export import write_mesh_glb
    from text3d.ui.settings import STATIC_DIR

    work = tmp_path_factory.mktemp("viewer")
    mesh = box_room()
    with ui_tools.serve(work / "app") as (url, demo, _), sync_playwright() as pw, \
            loopback_browser(pw, work / "profile", {"width": 1000, "height": 700}) as (context, outside, requested):
        folder = demo.text3d_store.new_request_path()
        folder.mkdir()
        glb = write_mesh_glb(folder / "scene.glb", mesh, POSES, K, VIEW_SIZE,
                             ["view_000_first", "view_001_trajectory", "view_002_trajectory", "view_003_cleanup"])
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{url}gradio_api/file={quote(str(STATIC_DIR / 'viewer.html'))}"
                  f"?glb={quote(url + 'gradio_api/file=' + str(glb), safe='')}")
        yield page, viewer_frame(page), mesh, url, requested, outside
    assert not outside, f"the viewer tried to load from outside the machine: {outside}"


def _matches(frame, mesh, pose=None) -> float:
    """Correlation of the canvas with the mesh rendered at ``pose`` (default: the viewer's own pose)."""
    shot = canvas_rgb(frame)
    pose = viewer_pose(frame) if pose is None else pose
    return correlation(shot, render_like_viewer(mesh, K, VIEW_SIZE, pose, shot.shape[:2]))


def _jump(frame, k: int) -> None:
    frame.locator("#camera").select_option(str(k))
    settle(frame)


def test_opens_at_the_first_camera_with_its_field_of_view(viewer):
    page, frame, mesh, *_ = viewer
    _jump(frame, 0)
    state = frame.evaluate("() => window.text3dViewer.pose()")
    assert state["fov"] == pytest.approx(math.degrees(2 * math.atan(VIEW_SIZE[0] / 2 / K[1, 1])), rel=1e-6)
    assert state["aspect"] == pytest.approx(VIEW_SIZE[1] / VIEW_SIZE[0])
    assert np.allclose(viewer_pose(frame), POSES[0], atol=1e-6)
    box = frame.locator("#view").bounding_box()
    assert box["width"] / box["height"] == pytest.approx(VIEW_SIZE[1] / VIEW_SIZE[0], rel=0.02)
    shot = canvas_rgb(frame)
    first = render_like_viewer(mesh, K, VIEW_SIZE, POSES[0], shot.shape[:2])
    assert correlation(shot, first) >= 0.9
    assert np.abs(shot.astype(float) / 255 - first).mean() < 0.08     # the colours too, not only the pattern
    assert frame.locator("#where").inner_text() == "camera 0 · first"


def test_jumping_to_view_k_shows_view_k(viewer):
    page, frame, mesh, *_ = viewer
    labels = frame.locator("#camera option").all_inner_texts()
    assert labels == ["0 · first", "1 · trajectory", "2 · trajectory", "3 · cleanup"]
    for k in (1, 2, 3):
        _jump(frame, k)
        assert np.allclose(viewer_pose(frame), POSES[k], atol=1e-6)
        shot = canvas_rgb(frame)
        renders = [render_like_viewer(mesh, K, VIEW_SIZE, p, shot.shape[:2]) for p in POSES]
        scores = [correlation(shot, r) for r in renders]
        assert scores[k] >= MATCH and scores[k] == max(scores), f"view {k}: {scores}"


def test_a_key_press_walks_forward_and_the_frame_follows(viewer):
    page, frame, mesh, *_ = viewer
    _jump(frame, 0)
    before = canvas_rgb(frame)
    frame.locator("#view").click()                     # focus the scene (a click without drag does not turn)
    assert np.allclose(viewer_pose(frame), POSES[0], atol=1e-6)
    press_and_wait_for_move(page, frame, "w")
    moved = viewer_pose(frame)
    step = moved[:3, 3] - POSES[0][:3, 3]
    assert step[2] > 0.05 and np.allclose(step[:2], 0, atol=1e-6)   # forward is +z for the first view
    assert np.allclose(moved[:3, :3], POSES[0][:3, :3], atol=1e-6)
    after = canvas_rgb(frame)
    assert np.abs(after.astype(float) - before).mean() > 2              # the picture changed ...
    assert _matches(frame, mesh) >= MATCH                               # ... to the view from the new place
    press_and_wait_for_move(page, frame, "d")                           # D steps right (+x in OpenCV)
    right = viewer_pose(frame)[:3, 3] - moved[:3, 3]
    assert right[0] > 0.05 and abs(right[2]) < 1e-6
    press_and_wait_for_move(page, frame, "ArrowLeft")                   # arrows walk too: back where it was
    assert np.allclose(viewer_pose(frame)[:3, 3], moved[:3, 3], atol=1e-6)
    assert frame.locator("#where").inner_text().startswith("free view")


def test_holding_a_key_walks_on(viewer):
    """A tap moves one step whatever the machine's speed; a key held past the hold delay keeps walking."""
    page, frame, *_ = viewer
    _jump(frame, 0)
    frame.locator("#view").click()
    press_and_wait_for_move(page, frame, "w")
    start = viewer_pose(frame)[2, 3]
    tap = start - POSES[0][2, 3]
    page.keyboard.down("w")
    page.wait_for_timeout(1000)
    page.keyboard.up("w")
    settle(frame)
    held = viewer_pose(frame)[2, 3] - start
    assert held > 2 * tap > 0, (held, tap)


def test_scroll_walks_forward(viewer):
    page, frame, mesh, *_ = viewer
    _jump(frame, 1)                                                     # looking along +x
    box = frame.locator("#view").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -200)                                           # wheel up: forward
    settle(frame)
    step = viewer_pose(frame)[:3, 3] - POSES[1][:3, 3]
    assert step[0] > 0.05 and abs(step[2]) < 1e-6


def test_dragging_turns_the_camera_and_the_frame_follows(viewer):
    page, frame, mesh, *_ = viewer
    _jump(frame, 0)
    before = canvas_rgb(frame)
    box = frame.locator("#view").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 200, y, steps=8)                                # drag left: the camera turns right
    page.mouse.up()
    settle(frame)
    pose = viewer_pose(frame)
    forward = pose[:3, 2]
    assert np.allclose(pose[:3, 3], POSES[0][:3, 3], atol=1e-6)           # turned on the spot
    # The scene follows the pointer: 200 px of a canvas this high turn by about that share of the field of view.
    turned = math.degrees(math.atan2(forward[0], forward[2]))
    expected = 200 / box["height"] * math.degrees(2 * math.atan(VIEW_SIZE[0] / 2 / K[1, 1]))
    assert turned == pytest.approx(expected, rel=0.1) and abs(forward[1]) < 1e-6    # toward +x (right), level
    after = canvas_rgb(frame)
    assert np.abs(after.astype(float) - before).mean() > 2
    assert _matches(frame, mesh) >= MATCH


def test_reset_returns_to_the_first_view(viewer):
    page, frame, mesh, *_ = viewer
    _jump(frame, 2)
    frame.locator("#view").click()
    press_and_wait_for_move(page, frame, "s")
    frame.locator("#reset").click()
    settle(frame)
    assert np.allclose(viewer_pose(frame), POSES[0], atol=1e-6)
    assert frame.locator("#camera").input_value() == "0"
    assert _matches(frame, mesh, POSES[0]) >= 0.9


def test_frustums_toggle_draws_the_cameras(viewer):
    page, frame, mesh, *_ = viewer
    _jump(frame, 0)
    frame.locator("#frustums").check()
    at_camera = canvas_rgb(frame)
    frame.locator("#frustums").uncheck()
    assert np.array_equal(at_camera, canvas_rgb(frame))   # standing at a camera, its own frustum is hidden
    frame.locator("#view").click()
    for _ in range(6):
        press_and_wait_for_move(page, frame, "s")     # step back: the cameras at the origin come into sight
    off = canvas_rgb(frame)
    frame.locator("#frustums").check()
    on = canvas_rgb(frame)
    frame.locator("#frustums").uncheck()
    off_again = canvas_rgb(frame)
    h, w = off.shape[:2]
    inner = (slice(h // 8, h - h // 8), slice(w // 8, w - w // 8))
    changed = np.abs(on.astype(int) - off)[inner].max(-1) > 40
    assert changed.mean() > 0.002                     # frustum lines appear inside the frame ...
    assert np.array_equal(off, off_again)             # ... and go again


def test_the_viewer_loads_only_from_the_app(viewer):
    page, frame, mesh, url, requested, outside = viewer
    assert not outside
    assert any(u.endswith("vendor/three/build/three.module.min.js") for u in requested)    # bundled three.js
    assert all(u.startswith(url) for u in requested), [u for u in requested if not u.startswith(url)]


def test_missing_or_broken_scene_is_a_readable_message(viewer, tmp_path):
    page, frame, mesh, url, *_ = viewer
    from text3d.ui.settings import STATIC_DIR

    viewer_url = f"{url}gradio_api/file={quote(str(STATIC_DIR / 'viewer.html'))}"
    other = page.context.new_page()
    try:
        other.goto(viewer_url)
        msg = other.locator("#message")
        assert "No scene yet" in msg.inner_text()
        other.goto(viewer_url + "?glb=" + quote(url + "gradio_api/file=/nonexistent/scene.glb", safe=""))
        other.wait_for_function("() => window.text3dViewer && window.text3dViewer.error")
        text = msg.inner_text()
        assert text.startswith("Could not load the scene") and "\n" not in text
    finally:
        other.close()



def test_a_glb_without_cameras_opens_at_the_export_origin(viewer, tmp_path):
    """Files written without cameras open where the export world puts the first view: the origin, looking
    down -z (the generation frame's identity pose), with a 60 degree field of view."""
    page, frame, mesh, url, *_ = viewer
    from text3d.run.export import write_mesh_glb
    from text3d.ui.settings import STATIC_DIR

    glb = write_mesh_glb(Path(url_folder(frame)) / "plain.glb", mesh)
    other = page.context.new_page()
    try:
        other.goto(f"{url}gradio_api/file={quote(str(STATIC_DIR / 'viewer.html'))}"
                   f"?glb={quote(url + 'gradio_api/file=' + str(glb), safe='')}")
        plain = viewer_frame(other)
        assert np.allclose(viewer_pose(plain), np.eye(4), atol=1e-9)
        assert plain.evaluate("() => window.text3dViewer.pose().fov") == pytest.approx(60.0)
        assert plain.locator("#camera option").all_inner_texts() == ["default view"]
    finally:
        other.close()


def url_folder(frame) -> str:
    """The request folder holding the scene the viewer frame shows (from its ?glb= URL)."""
    from urllib.parse import parse_qs, unquote, urlparse

    glb_url = parse_qs(urlparse(frame.url).query)["glb"][0]
    return str(Path(unquote(urlparse(glb_url).path.split("file=", 1)[1])).parent)
