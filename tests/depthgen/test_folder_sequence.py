"""The folder format with intrinsics and poses (an RGB-D sequence), and the shared real 7-Scenes set."""

import json
from pathlib import Path

import numpy as np
import pytest

from depthgen.data.folder import FolderDataset, write_folder_meta, write_folder_sample

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-7scenes-redkitchen"
K = [[50.0, 0.0, 4.0], [0.0, 50.0, 3.0], [0.0, 0.0, 1.0]]


def _pose(tx: float) -> list:
    T = np.eye(4)
    T[:3, 3] = [tx, 0.0, 0.0]
    return T.tolist()


def _sequence(root: Path, names=("000000", "000004"), poses: dict | None = None, **meta) -> None:
    rng = np.random.default_rng(0)
    for n in names:
        write_folder_sample(root, n, rng.integers(0, 256, (6, 8, 3), dtype=np.uint8),
                            rng.uniform(0.5, 3.0, (6, 8)).astype(np.float32))
    write_folder_meta(root, 1000, **meta)
    if poses is not None:
        (root / "poses.json").write_text(json.dumps({"convention": "cam_to_world", "poses": poses}))


def test_reads_K_and_poses(tmp_path):
    _sequence(tmp_path, poses={"000000": _pose(0.0), "000004": _pose(0.25)}, K=K)
    ds = FolderDataset(tmp_path)
    np.testing.assert_array_equal(ds.K, np.asarray(K))
    item = ds[1]
    assert item["K"].shape == (3, 3) and item["K"].dtype == np.float64
    assert item["cam_to_world"].shape == (4, 4) and item["cam_to_world"][0, 3] == 0.25
    np.testing.assert_array_equal(ds[0]["cam_to_world"], np.eye(4))


def test_without_K_or_poses_items_have_no_camera_keys(tmp_path):
    _sequence(tmp_path)
    ds = FolderDataset(tmp_path)
    assert ds.K is None and ds.poses is None
    assert set(ds[0]) == {"rgb", "depth", "valid", "name", "outdoor"} and ds[0]["outdoor"] is False


def test_missing_pose_and_bad_K_are_one_line_errors(tmp_path):
    _sequence(tmp_path / "a", poses={"000000": _pose(0.0)})
    with pytest.raises(ValueError, match="no pose for '000004'"):
        FolderDataset(tmp_path / "a")
    _sequence(tmp_path / "b", K=[[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="3x3 intrinsics"):
        FolderDataset(tmp_path / "b")
    _sequence(tmp_path / "c", poses={"000000": _pose(0.0), "000004": [[1, 0], [0, 1]]})
    with pytest.raises(ValueError, match="not a finite 4x4"):
        FolderDataset(tmp_path / "c")


@pytest.mark.skipif(not REAL.is_dir(), reason=f"the shared real set is not at {REAL}")
def test_real_set_reprojects_between_frames():
    """Frame 0's depth, moved with the poses into frame 20 (80 raw frames later), lands on that frame's depth."""
    ds = FolderDataset(REAL)
    assert len(ds) == 250
    a, b = ds[0], ds[20]
    K_real = a["K"]
    assert K_real[0, 0] == 525.0 and a["rgb"].shape == (480, 640, 3)
    v, u = np.nonzero(a["valid"])
    z = a["depth"][v, u].astype(np.float64)
    pts = np.stack([(u + 0.5 - K_real[0, 2]) * z / K_real[0, 0], (v + 0.5 - K_real[1, 2]) * z / K_real[1, 1], z], 1)
    world = pts @ a["cam_to_world"][:3, :3].T + a["cam_to_world"][:3, 3]
    inv = np.linalg.inv(b["cam_to_world"])
    cam = world @ inv[:3, :3].T + inv[:3, 3]
    uv = cam[:, :2] / cam[:, 2:] * [K_real[0, 0], K_real[1, 1]] + [K_real[0, 2], K_real[1, 2]]
    c, r = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
    inside = (c >= 0) & (c < 640) & (r >= 0) & (r < 480) & (cam[:, 2] > 0)
    target = b["depth"][r[inside], c[inside]]
    ok = target > 0
    rel = np.abs(cam[inside, 2][ok] - target[ok]) / target[ok]
    assert ok.sum() > 10_000 and np.median(rel) < 0.02
