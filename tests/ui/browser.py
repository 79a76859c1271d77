"""Helpers of the real-browser tests: headless Chromium that may only reach loopback, the 3D viewer's frame
and canvas, and comparing what it draws with the mesh rendered by Open3D at the same camera."""

from __future__ import annotations

import io
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import numpy as np

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname in ("127.0.0.1", "localhost", "::1")


@contextmanager
def loopback_browser(pw, profile: Path, viewport: dict) -> Iterator[tuple[object, list[str], list[str]]]:
    """A persistent Chromium context that refuses (and records) every request leaving loopback.

    Yields (context, outside urls, all urls requested)."""
    context = pw.chromium.launch_persistent_context(str(profile), executable_path=str(CHROMIUM), args=FLAGS,
                                                    headless=True, viewport=viewport)
    outside: list[str] = []
    requested: list[str] = []

    def only_loopback(route):
        requested.append(route.request.url)
        if is_local(route.request.url):
            route.continue_()
        else:                                     # the page must not reach out; record and refuse
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    try:
        yield context, outside, requested
    finally:
        context.close()


def viewer_frame(page, timeout: float = 60.0):
    """The viewer's iframe (a Playwright Frame) once its scene is loaded and drawn; raises on a load error."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for frame in page.frames:
            if "viewer.html" in frame.url:
                try:
                    status = frame.evaluate("() => window.text3dViewer && [window.text3dViewer.ready, "
                                            "window.text3dViewer.error, window.text3dViewer.frames]")
                except Exception:                 # navigating or not yet evaluated
                    status = None
                if status and status[1]:
                    raise AssertionError(f"the viewer reported an error: {status[1]}")
                if status and status[0] and status[2] > 0:
                    return frame
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for the 3D viewer to draw")


def settle(frame, frames: int = 3) -> None:
    """Wait until the viewer has drawn ``frames`` more animation frames (it renders on demand)."""
    frame.evaluate("(n) => new Promise(done => { let k = 0; const step = () => (++k >= n ? done() : "
                   "requestAnimationFrame(step)); requestAnimationFrame(step); })", frames)


def press_and_wait_for_move(page, frame, key: str, timeout_ms: int = 10_000) -> None:
    """Press ``key`` and wait until the viewer camera has left where it stood (a loaded machine may handle the
    key after the press returns), then for the frames drawn there."""
    before = frame.evaluate("() => window.text3dViewer.pose().position")
    page.keyboard.press(key)
    frame.wait_for_function("(p) => window.text3dViewer.pose().position.some((v, i) => v !== p[i])", arg=before,
                            timeout=timeout_ms)
    settle(frame)


def canvas_rgb(frame) -> np.ndarray:
    """(H, W, 3) uint8 screenshot of the viewer's canvas (what the visitor sees of the scene)."""
    from PIL import Image

    settle(frame)
    png = frame.locator("#view").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def grey(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 or float [0, 1] -> (h, w) float greyscale in [0, 1], area-downsampled to size (h, w)."""
    from PIL import Image

    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)
    im = Image.fromarray(a).convert("L").resize((size[1], size[0]), Image.BOX)
    return np.asarray(im, dtype=np.float64) / 255.0


def correlation(a: np.ndarray, b: np.ndarray, size: tuple[int, int] = (24, 24)) -> float:
    """Pearson correlation of the two images' downsampled greyscale."""
    x, y = grey(a, size).ravel(), grey(b, size).ravel()
    x, y = x - x.mean(), y - y.mean()
    return float((x @ y) / max(np.sqrt((x @ x) * (y @ y)), 1e-12))


def viewer_pose(frame) -> np.ndarray:
    """The viewer camera as an OpenCV cam_to_world (4, 4) in the generation frame.

    The viewer works in the export world (y up) with three.js / glTF camera axes (looking down -z), so the
    generation pose is CV_TO_GL @ M @ CV_TO_GL, as for the .glb's camera nodes."""
    from scipy.spatial.transform import Rotation

    from text3d.geometry.cameras import CV_TO_GL

    pose = frame.evaluate("() => window.text3dViewer.pose()")
    m = np.eye(4)
    m[:3, :3] = Rotation.from_quat(pose["quaternion"]).as_matrix()     # three.js quaternions are (x, y, z, w)
    m[:3, 3] = pose["position"]
    return CV_TO_GL @ m @ CV_TO_GL


def render_like_viewer(mesh, K: np.ndarray, view_size: tuple[int, int], pose: np.ndarray,
                       size: tuple[int, int], background=(20 / 255, 20 / 255, 26 / 255)) -> np.ndarray:
    """(H, W, 3) float: the mesh (generation frame) rendered by Open3D at ``pose``, K given at view_size."""
    from text3d.geometry.cameras import scale_intrinsics
    from text3d.geometry.render import render_mesh

    Ks = scale_intrinsics(K, view_size, size)
    return render_mesh(mesh, Ks, pose, size[0], size[1], background).image
