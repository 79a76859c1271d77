import h5py
import numpy as np
import pytest
import scipy.io

from depthgen.data.nyu import NYUv2Labeled, read_split_indices

H, W, N = 6, 8, 5


def _write_fake_mat(path):
    """A tiny nyu_depth_v2_labeled.mat in the official HDF5 layout (MATLAB v7.3: axes stored reversed)."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(N, H, W, 3), dtype=np.uint8)  # what the images look like (N, H, W, 3)
    depth = rng.uniform(0.5, 9.5, size=(N, H, W)).astype(np.float32)
    with h5py.File(path, "w", userblock_size=512) as f:  # MATLAB v7.3 files carry a 512-byte header
        f.create_dataset("images", data=rgb.transpose(0, 3, 2, 1))  # (N, 3, W, H)
        f.create_dataset("depths", data=depth.transpose(0, 2, 1))  # (N, W, H)
        f.create_dataset("labels", data=np.zeros((N, W, H), np.uint16))
    return rgb, depth


def test_reads_the_transposed_hdf5_layout(tmp_path):
    rgb, depth = _write_fake_mat(tmp_path / "nyu.mat")
    ds = NYUv2Labeled(tmp_path / "nyu.mat")
    assert len(ds) == N and ds.split == "all"
    for i in (0, 3):
        item = ds[i]
        assert item["rgb"].shape == (H, W, 3) and item["rgb"].dtype == np.uint8
        assert item["depth"].shape == (H, W) and item["depth"].dtype == np.float32
        np.testing.assert_array_equal(item["rgb"], rgb[i])
        np.testing.assert_array_equal(item["depth"], depth[i])
        assert item["valid"].all() and item["name"] == f"nyu_{i:04d}"
    ds.close()


def test_official_splits_mat_is_one_based(tmp_path):
    rgb, depth = _write_fake_mat(tmp_path / "nyu.mat")
    scipy.io.savemat(tmp_path / "splits.mat", {"testNdxs": np.array([[2.0], [5.0]]),
                                               "trainNdxs": np.array([[1.0], [3.0], [4.0]])})
    ds = NYUv2Labeled(tmp_path / "nyu.mat", tmp_path / "splits.mat")
    assert len(ds) == 2 and ds.split == "test"
    np.testing.assert_array_equal(ds[0]["depth"], depth[1])
    np.testing.assert_array_equal(ds[1]["rgb"], rgb[4])
    train = NYUv2Labeled(tmp_path / "nyu.mat", tmp_path / "splits.mat", split="train")
    assert [train[i]["index"] for i in range(3)] == [0, 2, 3]


def test_text_file_of_indices(tmp_path):
    _, depth = _write_fake_mat(tmp_path / "nyu.mat")
    (tmp_path / "test.txt").write_text("3\n1\n")
    ds = NYUv2Labeled(tmp_path / "nyu.mat", tmp_path / "test.txt")
    np.testing.assert_array_equal(ds[0]["depth"], depth[2])
    np.testing.assert_array_equal(ds[1]["depth"], depth[0])


def test_dataset_survives_pickling_for_workers(tmp_path):
    import pickle

    _, depth = _write_fake_mat(tmp_path / "nyu.mat")
    ds = NYUv2Labeled(tmp_path / "nyu.mat")
    ds[0]  # opens the file
    clone = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(clone[1]["depth"], depth[1])


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        NYUv2Labeled(tmp_path / "missing.mat")
    (tmp_path / "v5.mat").write_bytes(b"MATLAB 5.0 MAT-file, not hdf5" + bytes(200))
    with pytest.raises(ValueError, match="HDF5"):
        NYUv2Labeled(tmp_path / "v5.mat")
    with h5py.File(tmp_path / "other.mat", "w") as f:
        f.create_dataset("images", data=np.zeros((2, 3, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="no 'depths'"):
        NYUv2Labeled(tmp_path / "other.mat")
    _write_fake_mat(tmp_path / "nyu.mat")
    (tmp_path / "zero.txt").write_text("0 1 2")
    with pytest.raises(ValueError, match="1-based"):
        read_split_indices(tmp_path / "zero.txt")
    (tmp_path / "big.txt").write_text("1 99")
    with pytest.raises(ValueError, match="exceeds"):
        NYUv2Labeled(tmp_path / "nyu.mat", tmp_path / "big.txt")
    scipy.io.savemat(tmp_path / "wrong.mat", {"foo": np.ones((2, 1))})
    with pytest.raises(ValueError, match="testNdxs"):
        read_split_indices(tmp_path / "wrong.mat")
