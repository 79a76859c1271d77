"""depthgen.common.io: the one atomic writer (files and folders) and the one depth colouriser."""

from __future__ import annotations

import json

import numpy as np
import pytest

from depthgen.common.io import atomic_dir, colorize, colorize_depth, write_json


def test_atomic_dir_replaces_the_folder_only_on_success(tmp_path):
    out = tmp_path / "model"
    with atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("first")
    assert (out / "a.txt").read_text() == "first"
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "b.txt").write_text("half")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]      # no temporary folder left
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]           # the old folder untouched
    with atomic_dir(out) as tmp:
        (tmp / "c.txt").write_text("second")
    assert sorted(p.name for p in out.iterdir()) == ["c.txt"]           # replaced as a whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_atomic_dir_keeps_the_named_files_of_the_old_folder(tmp_path):
    """A re-export keeps the model card written by hand; a first export writes its own."""
    out = tmp_path / "model"
    with atomic_dir(out, keep=("README.md",)) as tmp:
        (tmp / "README.md").write_text("generated")
        (tmp / "w.bin").write_text("1")
    assert (out / "README.md").read_text() == "generated"
    (out / "README.md").write_text("edited by hand")
    with atomic_dir(out, keep=("README.md",)) as tmp:
        (tmp / "README.md").write_text("generated again")
        (tmp / "w.bin").write_text("2")
    assert (out / "README.md").read_text() == "edited by hand" and (out / "w.bin").read_text() == "2"


def test_write_json_round_trips(tmp_path):
    data = {"a": [1, 2.5], "b": "x"}
    assert json.loads(write_json(tmp_path / "d.json", data).read_text()) == data


@pytest.mark.parametrize("scale", ["linear", "log", "inverse"])
def test_colorize_is_monotone_along_the_map_and_blacks_out_invalid(scale):
    import matplotlib

    depth = np.linspace(1.0, 5.0, 16, dtype=np.float32)[None].repeat(2, 0)
    depth[0, 0] = 0.0
    rgb = colorize(depth, depth > 0, "viridis", 1.0, 5.0, scale=scale)
    assert rgb.shape == (2, 16, 3) and rgb.dtype == np.uint8 and np.all(rgb[0, 0] == 0)
    lut = (matplotlib.colormaps["viridis"](np.linspace(0, 1, 256))[:, :3] * 255).astype(float)
    pos = [int(np.argmin(((lut - px) ** 2).sum(1))) for px in rgb[1].astype(float)]  # place on the colour map
    assert pos == sorted(pos) if scale != "inverse" else pos == sorted(pos, reverse=True)
    assert pos[0] != pos[-1]


def test_colorize_depth_puts_near_at_the_top_of_turbo():
    depth = np.array([[1.0, 10.0, 0.0]], np.float32)
    rgb = colorize_depth(depth, 1.0, 10.0).astype(int)
    assert rgb[0, 0, 0] > rgb[0, 0, 2] and rgb[0, 1, 2] > rgb[0, 1, 0]   # near red, far blue
    assert np.all(rgb[0, 2] == 0)


def test_colorize_rejects_unknown_scale():
    with pytest.raises(ValueError, match="colour scale"):
        colorize(np.ones((2, 2)), scale="sqrt")
