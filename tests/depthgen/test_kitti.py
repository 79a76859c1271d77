import cv2
import numpy as np
import pytest

from depthgen.data.kitti import KITTIEigen, parse_filelist

H, W = 10, 30  # tiny stand-ins for 375 x 1242 frames


def _write_frame(rgb_root, gt_root, drive, frame, seed):
    """One KITTI frame in the official layout; returns (rgb, depth metres)."""
    rng = np.random.default_rng(seed)
    date = drive[:10]
    rgb_rel = f"{date}/{drive}/image_02/data/{frame:010d}.png"
    gt_rel = f"{drive}/proj_depth/groundtruth/image_02/{frame:010d}.png"
    (rgb_root / rgb_rel).parent.mkdir(parents=True, exist_ok=True)
    (gt_root / gt_rel).parent.mkdir(parents=True, exist_ok=True)
    rgb = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
    raw = rng.integers(0, 80 * 256, size=(H, W)).astype(np.uint16)
    raw[rng.random((H, W)) < 0.7] = 0  # sparse LiDAR ground truth
    assert cv2.imwrite(str(rgb_root / rgb_rel), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert cv2.imwrite(str(gt_root / gt_rel), raw)
    return rgb_rel, gt_rel, rgb, raw.astype(np.float32) / 256.0


def test_reads_eigen_filelist_with_focal_and_none_lines(tmp_path):
    rgb_root, gt_root = tmp_path / "raw", tmp_path / "gt"
    a = _write_frame(rgb_root, gt_root, "2011_09_26_drive_0002_sync", 69, 0)
    b = _write_frame(rgb_root, gt_root, "2011_09_26_drive_0009_sync", 16, 1)
    filelist = tmp_path / "eigen_test_files_with_gt.txt"
    filelist.write_text(f"# Eigen test split\n{a[0]} {a[1]} 721.5377\n"
                        f"2011_09_26/2011_09_26_drive_0009_sync/image_02/data/0000000000.png None 721.5377\n"
                        f"\n{b[0]} {b[1]}\n")
    ds = KITTIEigen(rgb_root, gt_root, filelist)
    assert len(ds) == 2 and ds.num_skipped == 1
    item = ds[0]
    np.testing.assert_array_equal(item["rgb"], a[2])
    assert item["depth"].dtype == np.float32
    np.testing.assert_array_equal(item["depth"], a[3])
    np.testing.assert_array_equal(item["valid"], a[3] > 0)
    assert item["focal"] == pytest.approx(721.5377)
    assert item["name"] == "2011_09_26/2011_09_26_drive_0002_sync/image_02/data/0000000069"
    assert "focal" not in ds[1]
    np.testing.assert_array_equal(ds[1]["depth"], b[3])


def test_errors(tmp_path):
    rgb_root, gt_root = tmp_path / "raw", tmp_path / "gt"
    a = _write_frame(rgb_root, gt_root, "2011_09_26_drive_0002_sync", 69, 0)
    bad = tmp_path / "monodepth_style.txt"
    bad.write_text("2011_09_26/2011_09_26_drive_0002_sync 69 l\n")
    with pytest.raises(ValueError, match="rgb_path gt_path"):
        parse_filelist(bad)
    with pytest.raises(ValueError, match="not found"):
        parse_filelist(tmp_path / "nope.txt")
    none_only = tmp_path / "none.txt"
    none_only.write_text(f"{a[0]} None\n")
    with pytest.raises(ValueError, match="no sample"):
        parse_filelist(none_only)
    missing = tmp_path / "missing.txt"
    missing.write_text(f"{a[0]} {a[1]}\n{a[0]} drive/missing.png\n")
    with pytest.raises(ValueError, match="missing.png"):
        KITTIEigen(rgb_root, gt_root, missing)
    with pytest.raises(ValueError, match="root not found"):
        KITTIEigen(tmp_path / "x", gt_root, missing)
