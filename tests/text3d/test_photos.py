"""Photos as the first view (issue 36): 16-bit and greyscale scaled to 8-bit RGB over their range, EXIF
orientation applied (the picture and its field of view), an animation's first frame said once on stderr."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from PIL import Image

import text3d.run.inputs
from text3d.cli import main
from text3d.fakes import fake_backends
from text3d.run.camera import photo_fov_deg
from text3d.run.inputs import read_photo

RUN = ["--preset", "fast", "--views", "2", "--size", "32x32", "--set", "video.enabled=false", "--set",
       "cleanup.views=0", "--set", "trajectory.orbit_degrees=30", "--quiet"]
RED, GREEN, BLUE = (220, 30, 20), (20, 200, 40), (30, 40, 210)


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setattr(text3d.run.inputs, "load_backends", lambda *a, **k: fake_backends())


RAMP = np.linspace(0, 1, 256)                       # left to right, black to white


@pytest.mark.parametrize("mode, fmt, top", [("I;16", "PNG", 65535), ("I;16", "TIFF", 65535), ("I", "TIFF", 65535),
                                            ("I", "TIFF", 255), ("F", "TIFF", 1.0), ("L", "PNG", 255)])
def test_a_grey_ramp_of_any_depth_becomes_a_full_range_8_bit_ramp(tmp_path, mode, fmt, top):
    dtype = {"I;16": np.uint16, "I": np.int32, "F": np.float32, "L": np.uint8}[mode]
    values = np.tile(np.round(RAMP * top) if mode != "F" else RAMP, (16, 1)).astype(dtype)
    path = tmp_path / f"ramp.{fmt.lower()}"
    Image.fromarray(values, mode if mode != "I;16" else None).save(path, fmt)
    rgb = np.asarray(read_photo(path).image)
    assert rgb.dtype == np.uint8 and rgb.shape == (16, 256, 3)
    assert (rgb == rgb[..., :1]).all()                                     # grey stays grey
    row = rgb[0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255 and (np.diff(row) >= 0).all()
    assert np.abs(row - np.round(RAMP * 255)).max() <= 1                   # not clipped: 98% white before


def test_a_float_photo_with_nan_and_inf_reads_without_a_warning(tmp_path):
    values = np.array([[np.nan, np.inf, -np.inf, 0.5, 2.0, 0.0]], np.float32)   # NaN black, +inf white
    Image.fromarray(values, "F").save(tmp_path / "odd.tif")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rgb = np.asarray(read_photo(tmp_path / "odd.tif").image)
    assert rgb[0, :, 0].tolist() == [0, 255, 0, 64, 255, 0]                 # scaled by the finite peak, 2.0


def test_a_16_bit_photo_paints_a_mid_grey_first_view(tmp_path, fakes):
    values = np.tile(np.round(RAMP * 65535), (256, 1)).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "ramp16.png")
    assert main(["--image", str(tmp_path / "ramp16.png"), "--out", str(tmp_path / "o"), *RUN]) == 0
    first = np.asarray(Image.open(tmp_path / "o" / "views" / "rgb_000.png"), dtype=np.float32) / 255
    assert abs(first.mean() - 0.5) < 0.05 and first[:, :4].mean() < 0.1 and first[:, -4:].mean() > 0.9


def _halves(path, orientation, size=(64, 32), focal_35mm=None):
    """A JPEG of ``size`` (W, H) pixels as stored: left half red, right half blue, with EXIF ``orientation``."""
    w, h = size
    a = np.zeros((h, w, 3), np.uint8)
    a[:, : w // 2], a[:, w // 2:] = RED, BLUE
    exif = Image.Exif()
    exif[0x0112] = orientation
    if focal_35mm is not None:
        exif.get_ifd(0x8769)[0xA405] = focal_35mm
    Image.fromarray(a).save(path, "JPEG", exif=exif, quality=95)
    return path


@pytest.mark.parametrize("orientation, size, first, second", [
    (1, (64, 32), "left", "right"),      # as stored
    (3, (64, 32), "right", "left"),      # turned 180 degrees: red on the right
    (6, (32, 64), "top", "bottom"),      # turned 90 degrees clockwise: the stored left side on top
    (8, (32, 64), "bottom", "top"),      # turned 90 degrees anticlockwise: the stored left side below
])
def test_exif_orientation_turns_the_photo_upright(tmp_path, orientation, size, first, second):
    image = read_photo(_halves(tmp_path / "halves.jpg", orientation)).image
    assert image.size == size
    a = np.asarray(image, dtype=np.float32)
    w, h = size
    parts = {"left": a[:, : w // 2 - 2], "right": a[:, w // 2 + 2:], "top": a[: h // 2 - 2], "bottom": a[h // 2 + 2:]}
    assert np.abs(parts[first].mean((0, 1)) - RED).max() < 12
    assert np.abs(parts[second].mean((0, 1)) - BLUE).max() < 12


def test_the_exif_field_of_view_follows_the_turned_photo(tmp_path):
    """A photo stored 60x40 with orientation 6 is the same 40x60 picture as one stored upright: the same field
    of view for a portrait view (it was computed from the stored sides before)."""
    turned = _halves(tmp_path / "turned.jpg", 6, (60, 40), focal_35mm=18)
    upright = _halves(tmp_path / "upright.jpg", 1, (40, 60), focal_35mm=18)
    assert photo_fov_deg(turned, 48, 32) == pytest.approx(photo_fov_deg(upright, 48, 32))
    assert photo_fov_deg(turned, 32, 48) == pytest.approx(photo_fov_deg(upright, 32, 48))


def _animation(path):
    frames = [Image.new("RGB", (40, 40), colour) for colour in (RED, GREEN, BLUE)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    return str(path)


def test_an_animation_gives_its_first_frame_said_once(tmp_path, capsys, fakes):
    photo = read_photo(_animation(tmp_path / "anim.gif"))
    assert photo.frames == 3 and np.abs(np.asarray(photo.image, np.float32).mean((0, 1)) - RED).max() < 12
    assert main(["--image", str(tmp_path / "anim.gif"), "--out", str(tmp_path / "o"), *RUN]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"note: {tmp_path / 'anim.gif'} is animated (3 frames); using its first frame"]
    first = np.asarray(Image.open(tmp_path / "o" / "views" / "rgb_000.png"), np.float32)
    assert np.abs(first.mean((0, 1)) - RED).max() < 12
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["image"].endswith("anim.gif")


def test_a_refused_run_from_an_animation_is_one_line(tmp_path, capsys, fakes):
    """The note comes once every check has passed; a refusal after reading the photo stays one line."""
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x")
    assert main(["--image", _animation(tmp_path / "anim.gif"), "--out", str(foreign), *RUN]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "holds no finished text3d run" in lines[0]
