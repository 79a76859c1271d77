"""The page in a real headless Chromium (Playwright): type a prompt, pick the quickest settings, Generate,
and check the 3D viewer, the video and the images; saves a screenshot of the page to $TEXT3D_UI_SCREENSHOT
(e.g. docs/ui.png) when that is set, else to the test's temporary folder, so a test run leaves docs/ alone."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the Debian chromium at /usr/bin/chromium")]


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname in ("127.0.0.1", "localhost", "::1")


def _mesh_drawn(png: bytes, clear=(20, 20, 26)) -> bool:
    """True when the viewer's centre shows its clear colour (WebGL is drawing) and mesh pixels on it."""
    import io

    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    h, w, _ = rgb.shape
    centre = rgb[h // 5: h - h // 5, w // 5: w - w // 5]       # away from the label and buttons
    is_clear = np.abs(centre - np.array(clear)).sum(-1) <= 12
    return bool(is_clear.mean() > 0.1 and (~is_clear).mean() > 0.01)


def test_generate_in_the_browser(tmp_path, ui_tools):
    from playwright.sync_api import expect, sync_playwright

    stages: list[str] = []

    def visible_progress_generate(*args, progress, **kwargs):
        """The real pipeline; each progress report lingers a moment so the browser can see the stages."""
        def report(stage: str, fraction: float) -> None:
            stages.append(stage)
            progress(stage, fraction)
            time.sleep(0.05)

        return ui_tools.fast_generate(*args, progress=report, **kwargs)

    from text3d.ui.server import STAND_IN_BANNER

    with ui_tools.serve(tmp_path / "app", generate_fn=visible_progress_generate, banner=STAND_IN_BANNER) \
            as (url, demo, _), \
            sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=FLAGS, headless=True,
            viewport={"width": 1400, "height": 1500})
        outside: list[str] = []

        def only_loopback(route):
            if _is_local(route.request.url):
                route.continue_()
            else:                                     # the page must not reach out; record and refuse
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_loopback)
        page = context.pages[0] if context.pages else context.new_page()
        try:
            page.goto(url)
            page.locator("#generate").click()                            # nothing typed yet: a readable error
            toast = page.locator("[data-testid=toast-body]")
            expect(toast).to_contain_text("the prompt is empty", timeout=30_000)
            assert "Traceback" not in page.content()
            toast.locator("[data-testid=toast-close]").click()
            expect(toast).to_have_count(0)
            page.locator("#prompt textarea").fill("a cozy library with wooden shelves")
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
            page.locator("#generate").click()

            # Per-stage progress shows while it runs (the stage name is the progress description).
            tracker = page.locator("#first-view [data-testid=status-tracker]")
            expect(tracker).to_contain_text(re.compile(r"(first view|views|fusion|export|video) - \d+(\.\d+)?%"),
                                            timeout=60_000)
            canvas = page.locator("#model3d canvas")
            expect(canvas).to_be_visible(timeout=90_000)
            video = page.locator("#video video")
            expect(video).to_have_attribute("src", re.compile(r"\S+"), timeout=30_000)
            src = video.get_attribute("src")
            assert src, "the video element has no src"
            response = page.request.get(src if src.startswith("http") else url.rstrip("/") + src)
            assert response.ok and response.body()[4:8] == b"ftyp", "the video src does not serve an mp4"
            assert response.headers["content-type"] == "video/mp4"
            box = canvas.bounding_box()
            assert box and box["width"] > 100 and box["height"] > 100
            for elem in ("#first-view", "#depth", "#uncertainty"):
                expect(page.locator(f"{elem} img")).to_be_visible()
            expect(page.locator("#downloads")).to_contain_text("a-cozy-library-with-wooden-shelves-seed0")
            expect(page.locator("#summary")).to_contain_text("seed 0")
            expect(page.locator("#summary")).to_contain_text("walk, 2 views")    # the chosen settings ran
            ui_tools.wait_until(lambda: _mesh_drawn(page.screenshot(clip=canvas.bounding_box())),
                                timeout=60, what="the 3D viewer to draw the mesh")
            shot = Path(os.environ.get("TEXT3D_UI_SCREENSHOT") or tmp_path / "ui.png")
            shot.parent.mkdir(parents=True, exist_ok=True)
            tmp = shot.with_name(f".ui.{os.getpid()}.png")
            page.screenshot(path=str(tmp))
            os.replace(tmp, shot)
            assert shot.stat().st_size > 10_000
        finally:
            context.close()
    assert {"first view", "views", "video"} <= set(stages)
    assert not outside, f"the page tried to load from outside the machine: {outside}"
