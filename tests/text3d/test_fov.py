"""The camera's field of view in text3d (issue 20): --fov / fov_deg, a photo's EXIF focal length, the default,
the manifest's record of it, and its way through the depth backend."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

import text3d
import text3d.run.inputs
from text3d.backends.depth import DepthGenBackend
from text3d.backends.protocols import Capabilities, capabilities_of
from text3d.cli import main
from text3d.fakes import PlaneDepth, fake_backends, tiny_depth_pipeline

TINY = ["--preset", "fast", "--views", "2", "--size", "32x32", "--set", "video.enabled=false",
        "--set", "cleanup.views=0", "--set", "trajectory.orbit_degrees=30", "--quiet"]


class RecordingDepth(PlaneDepth):
    """PlaneDepth that takes the camera and records the field of view of every call."""

    capabilities = Capabilities(fov=True)

    def __init__(self):
        super().__init__(3.0)
        self.fovs = []

    def predict(self, image, *, steps, samples, generator, fov_deg=None):
        self.fovs.append(fov_deg)
        return super().predict(image, steps=steps, samples=samples, generator=generator)

    def complete(self, image, known_depth, known_mask, *, steps, samples, generator, fov_deg=None):
        self.fovs.append(fov_deg)
        return super().complete(image, known_depth, known_mask, steps=steps, samples=samples, generator=generator)


@pytest.fixture
def depth(monkeypatch):
    """Every run gets the weight-free stand-ins with a depth backend that records the camera."""
    rec = RecordingDepth()

    def load(preset, **kw):
        b = fake_backends()
        b.depth = rec
        return b

    monkeypatch.setattr(text3d.run.inputs, "load_backends", load)
    return rec


def camera(out):
    return json.loads((out / "manifest.json").read_text())


@pytest.mark.parametrize("fov", ["0", "-5", "180", "200", "nan", "wide"])
def test_bad_fov_exits_2_with_one_line(fov, tmp_path, capsys, depth):
    assert main(["a room", "--out", str(tmp_path / "o"), "--fov", fov, *TINY]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("error: ") and "fov" in lines[0]
    assert not (tmp_path / "o").exists() and depth.fovs == []


def test_prompt_runs_record_the_trajectory_fov_and_pass_it_to_depth(tmp_path, depth):
    assert main(["a room", "--out", str(tmp_path / "a"), *TINY]) == 0
    m = camera(tmp_path / "a")
    assert m["camera"]["source"] == "trajectory" and m["camera"]["fov_deg"] == m["settings"]["trajectory"]["fov_deg"]
    assert m["camera"]["depth_uses_fov"] is False  # the stand-in has no camera-aware model
    assert depth.fovs and set(depth.fovs) == {m["camera"]["fov_deg"]}


def test_user_fov_sets_the_views_camera(tmp_path, depth):
    assert main(["a room", "--out", str(tmp_path / "b"), "--fov", "72.5", *TINY]) == 0
    m = camera(tmp_path / "b")
    assert m["camera"]["source"] == "user" and m["camera"]["fov_deg"] == 72.5
    assert m["settings"]["trajectory"]["fov_deg"] == 60.0  # the preset's setting, not rewritten by the run
    assert set(depth.fovs) == {72.5}
    tr = json.loads((tmp_path / "b" / "transforms.json").read_text())
    fx = next(v for k, v in tr.items() if k in ("fl_x", "fx"))
    assert 2 * math.degrees(math.atan(16 / fx)) == pytest.approx(72.5, abs=1e-3)


def _photo(path, focal_35mm=None):
    im = Image.fromarray((np.random.default_rng(0).random((40, 60, 3)) * 255).astype(np.uint8))
    exif = Image.Exif()
    if focal_35mm is not None:
        exif.get_ifd(0x8769)[0xA405] = focal_35mm
    im.save(path, "JPEG", exif=exif)
    return str(path)


def test_photo_fov_from_exif_or_the_default(tmp_path, depth):
    # 18 mm equivalent on a 60x40 (3:2) photo: f = 30 px; the square view keeps the central 40 px
    want = 2 * math.degrees(math.atan(20 / 30))
    assert main(["--image", _photo(tmp_path / "exif.jpg", 18), "--out", str(tmp_path / "c"), *TINY]) == 0
    m = camera(tmp_path / "c")
    assert m["camera"]["source"] == "exif" and m["camera"]["fov_deg"] == pytest.approx(want, abs=1e-3)
    assert depth.fovs[0] == pytest.approx(want)
    assert main(["--image", _photo(tmp_path / "plain.jpg"), "--out", str(tmp_path / "d"), *TINY]) == 0
    m = camera(tmp_path / "d")
    assert m["camera"]["source"] == "default" and m["camera"]["fov_deg"] == m["settings"]["trajectory"]["fov_deg"]
    # --fov beats the EXIF
    assert main(["--image", _photo(tmp_path / "exif.jpg", 18), "--out", str(tmp_path / "e"), "--fov", "50",
                 *TINY]) == 0
    assert camera(tmp_path / "e")["camera"] == {"fov_deg": 50.0, "source": "user", "depth_uses_fov": False}


def test_api_keyword_and_its_range(tmp_path, depth):
    with pytest.raises(ValueError, match="fov"):
        text3d.generate_scene("a room", out_dir=tmp_path / "x", fov_deg=175.0, preset="fast")
    with pytest.raises(ValueError, match="fov"):
        text3d.generate_scene("a room", out_dir=tmp_path / "x", fov_deg=True, preset="fast")


def test_fov_reaches_a_camera_aware_depthgen_model():
    from depthgen.models.camera import square_focal

    pipe = tiny_depth_pipeline(16)
    pipe.register_to_config(canonical_fov_deg=60.0)  # as a model trained with the canonical camera
    pipe.set_progress_bar_config(disable=True)
    backend = DepthGenBackend(pipe)
    assert capabilities_of(backend) == Capabilities(fov=True, camera_aware=True)
    img = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    kw = dict(steps=1, samples=1)
    narrow = backend.predict(img, generator=torch.Generator().manual_seed(0), fov_deg=40.0, **kw)
    wide = backend.predict(img, generator=torch.Generator().manual_seed(0), fov_deg=80.0, **kw)
    np.testing.assert_allclose(narrow.depth / wide.depth, square_focal(40) / square_focal(80), rtol=1e-5)
    assert not capabilities_of(DepthGenBackend(tiny_depth_pipeline(16))).camera_aware  # a model without a camera
    assert capabilities_of(PlaneDepth(2.0)) == Capabilities()  # a backend that declares nothing takes no camera
