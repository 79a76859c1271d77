"""The UI's download switch: an "Allow downloads" box in the advanced settings, off by default; when ticked, the
step before each generation downloads the preset's hub models the cache lacks, and a failure reaches the page as
one line naming its cause. No server and no network: HF_HUB_OFFLINE=1 (tests/conftest.py) makes downloads fail."""

from __future__ import annotations

import pytest

from text3d.backends.hub_ids import SD_T2I
from text3d.ui.layout import build_app, make_download_step
from text3d.ui.models import BackendPool
from text3d.ui.settings import UISettings


def test_the_box_is_in_the_advanced_settings_and_off(tmp_path):
    import gradio as gr

    from text3d.fakes import fake_backends

    demo = build_app(backends=fake_backends(), settings=UISettings(work_dir=tmp_path))
    boxes = [b for b in demo.blocks.values() if isinstance(b, gr.Checkbox) and b.elem_id == "allow-download"]
    assert len(boxes) == 1 and boxes[0].value is False and boxes[0].label == "Allow downloads"
    parent = boxes[0].parent
    while parent is not None and getattr(parent, "elem_id", None) != "advanced":
        parent = parent.parent
    assert isinstance(parent, gr.Accordion)


def test_download_step_does_nothing_unless_ticked_and_names_the_cause(tmp_path, monkeypatch):
    import gradio as gr

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    step = make_download_step(BackendPool())
    assert step("sd", False) is None  # off: nothing is fetched, the run reports a missing model itself
    with pytest.raises(gr.Error) as e:
        step("sd", True)
    message = str(e.value.message)
    assert f"downloading {SD_T2I} failed" in message and "HF_HUB_OFFLINE" in message and "\n" not in message
    assert step("fast", True) is None  # the embedded models need nothing
