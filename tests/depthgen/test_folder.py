import json

import cv2
import numpy as np
import pytest

from depthgen.common.io import read_depth_png, write_depth_png
from depthgen.data.folder import FolderDataset, write_folder_meta, write_folder_sample


def _write_pair(root, name, h=6, w=8, scale=1000.0, seed=0, ext=".png"):
    """Write one pair by hand in the documented format; returns (rgb, depth metres as stored)."""
    rng = np.random.default_rng(seed)
    (root / "rgb").mkdir(parents=True, exist_ok=True)
    (root / "depth").mkdir(parents=True, exist_ok=True)
    rgb = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    raw = rng.integers(1, 6000, size=(h, w)).astype(np.uint16)
    raw[0, 0] = 0  # an invalid pixel
    assert cv2.imwrite(str(root / "rgb" / f"{name}{ext}"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert cv2.imwrite(str(root / "depth" / f"{name}.png"), raw)
    return rgb, raw.astype(np.float32) / np.float32(scale)


def test_reads_pairs_with_meta_json(tmp_path):
    rgb_a, depth_a = _write_pair(tmp_path, "b_second", seed=1)
    rgb_b, depth_b = _write_pair(tmp_path, "a_first", seed=2)
    (tmp_path / "meta.json").write_text(json.dumps({"depth_scale": 1000}))
    ds = FolderDataset(tmp_path)
    assert len(ds) == 2 and ds.names == ["a_first", "b_second"]
    item = ds[0]
    assert item["name"] == "a_first"
    assert item["rgb"].dtype == np.uint8 and item["rgb"].shape == (6, 8, 3)
    np.testing.assert_array_equal(item["rgb"], rgb_b)
    assert item["depth"].dtype == np.float32
    np.testing.assert_allclose(item["depth"], depth_b)
    assert not item["valid"][0, 0] and item["valid"].sum() == 6 * 8 - 1
    np.testing.assert_allclose(ds[1]["depth"], depth_a)


def test_depth_scale_argument_overrides_meta(tmp_path):
    _, depth_mm = _write_pair(tmp_path, "x", scale=1000.0)
    write_folder_meta(tmp_path, 1000.0)
    ds = FolderDataset(tmp_path, depth_scale=256.0)
    np.testing.assert_allclose(ds[0]["depth"], depth_mm * 1000.0 / 256.0, rtol=1e-6)


def test_jpeg_rgb_and_no_meta_with_depth_scale(tmp_path):
    _write_pair(tmp_path, "x", ext=".jpg")
    ds = FolderDataset(tmp_path, depth_scale=1000)
    assert ds[0]["rgb"].shape == (6, 8, 3) and ds.protocol is None


def test_writer_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    depth = rng.uniform(0.5, 9.0, size=(5, 7)).astype(np.float32)
    depth[2, 3] = 0.0
    write_folder_sample(tmp_path, "s0", rgb, depth, depth_scale=1000)
    write_folder_meta(tmp_path, 1000, protocol="nyu")
    ds = FolderDataset(tmp_path)
    assert ds.protocol == "nyu"
    np.testing.assert_array_equal(ds[0]["rgb"], rgb)
    np.testing.assert_allclose(ds[0]["depth"], depth, atol=0.5e-3 + 1e-6)  # 1 mm quantisation
    assert not ds[0]["valid"][2, 3]
    assert not list(tmp_path.rglob("*.tmp*"))  # temp files renamed away


def test_depth_png_saturates_and_zeroes_invalid(tmp_path):
    p = tmp_path / "d.png"
    write_depth_png(p, np.array([[np.nan, -1.0, 1.0, 1000.0]]), depth_scale=256)
    np.testing.assert_allclose(read_depth_png(p, 256), [[0.0, 0.0, 1.0, 65535 / 256]])


def test_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        FolderDataset(tmp_path / "missing")
    with pytest.raises(ValueError, match="no rgb/"):
        FolderDataset(tmp_path)
    _write_pair(tmp_path, "x")
    with pytest.raises(ValueError, match="depth scale"):
        FolderDataset(tmp_path)
    (tmp_path / "meta.json").write_text("{not json")
    with pytest.raises(ValueError, match="cannot parse"):
        FolderDataset(tmp_path)
    write_folder_meta(tmp_path, 1000, protocol="middlebury")
    with pytest.raises(ValueError, match="unknown protocol"):
        FolderDataset(tmp_path)
    write_folder_meta(tmp_path, -5)
    with pytest.raises(ValueError, match="positive"):
        FolderDataset(tmp_path)
    write_folder_meta(tmp_path, 1000)
    _write_pair(tmp_path, "y")
    (tmp_path / "depth" / "y.png").unlink()
    with pytest.raises(ValueError, match="y.png has no depth map"):
        FolderDataset(tmp_path)
    (tmp_path / "rgb" / "y.png").unlink()
    (tmp_path / "rgb" / "z.png").write_bytes(b"not a png")
    (tmp_path / "depth" / "z.png").write_bytes(b"not a png")
    ds = FolderDataset(tmp_path)
    with pytest.raises(ValueError, match="cannot read image .*z.png"):
        ds[ds.names.index("z")]
    _write_pair(tmp_path, "z", h=4)
    cv2.imwrite(str(tmp_path / "depth" / "z.png"), np.ones((5, 8), np.uint16))
    with pytest.raises(ValueError, match="same size"):
        ds[ds.names.index("z")]
