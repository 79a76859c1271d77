"""Procedural shard writer CLI, ShardDataset round trip, folder output and the on-the-fly IterableDataset."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("open3d")

from depthgen.data.folder import FolderDataset  # noqa: E402
from depthgen.data.procedural import ProceduralDataset, ShardDataset, generate_sample, split_seed  # noqa: E402
from depthgen.data.procedural.__main__ import main  # noqa: E402


def test_cli_writes_shards_that_round_trip(tmp_path):
    out = tmp_path / "shards"
    assert main(["--out", str(out), "--n", "5", "--size", "16x12", "--split", "val", "--shard-size", "2",
                 "--start", "3", "--folder", "--quiet"]) == 0
    assert sorted(p.name for p in out.glob("shard-*.npz")) == ["shard-00000.npz", "shard-00001.npz",
                                                               "shard-00002.npz"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["depth_scale"] == 1000.0 and meta["n"] == 5 and meta["split"] == "val"
    ds = ShardDataset(out)
    assert len(ds) == 5
    for i in (0, 3, 4):
        item = ds[i]
        s = generate_sample(split_seed("val", 3 + i), (12, 16), "kinect")
        for k in ("rgb", "depth", "valid", "sensor_depth", "K", "cam_to_world"):
            np.testing.assert_array_equal(item[k], s[k])
        assert item["captions"] == s["captions"] and item["caption"] == s["caption"]
        assert item["scene_type"] == s["scene_type"] and item["outdoor"] == s["outdoor"]
        assert item["seed"] == s["seed"] and item["index"] == 3 + i
    assert ds[-1]["index"] == 7
    with pytest.raises(IndexError):
        ds[5]
    folder = FolderDataset(out)
    assert folder.names[0] == "val_0000003" and len(folder) == 5
    f0, s0 = folder[0], generate_sample(split_seed("val", 3), (12, 16), "kinect")
    np.testing.assert_array_equal(f0["rgb"], s0["rgb"])
    ok = s0["depth"] < 65.5
    np.testing.assert_allclose(f0["depth"][ok], s0["depth"][ok], atol=5.1e-4)
    assert (out / "sensor_depth" / "val_0000003.png").is_file()
    tensors = ShardDataset(out, max_cached=1, to_tensor=True)[2]
    assert isinstance(tensors["rgb"], torch.Tensor) and tensors["rgb"].dtype == torch.uint8


def test_rerun_keeps_complete_shards_and_workers_match(tmp_path):
    out = tmp_path / "s"
    args = ["--out", str(out), "--n", "3", "--size", "8x8", "--shard-size", "2", "--sensor", "none", "--quiet"]
    assert main(args) == 0
    first = (out / "shard-00000.npz").stat().st_mtime_ns
    (out / "shard-00001.npz").unlink()
    assert main(args) == 0
    assert (out / "shard-00000.npz").stat().st_mtime_ns == first and (out / "shard-00001.npz").is_file()
    out2 = tmp_path / "w"
    assert main(["--out", str(out2), "--n", "3", "--size", "8x8", "--shard-size", "2", "--sensor", "none",
                 "--workers", "2", "--quiet"]) == 0
    a, b = ShardDataset(out), ShardDataset(out2)
    for i in range(3):
        np.testing.assert_array_equal(a[i]["rgb"], b[i]["rgb"])
        np.testing.assert_array_equal(a[i]["sensor_depth"], a[i]["depth"])  # --sensor none: clean depth


@pytest.mark.parametrize("args", [
    ["--n", "3"],  # no --out
    ["--out", "X", "--n", "0"],
    ["--out", "X", "--n", "3", "--size", "64by64"],
    ["--out", "X", "--n", "3", "--split", "holdout"],
    ["--out", "X", "--n", "3", "--sensor", "sonar"],
    ["--out", "X", "--n", "3", "--workers", "0"],
    ["--out", "X", "--n", "3", "--outdoor-fraction", "1.5"],
    ["--out", "X", "--n", "two"],
])
def test_cli_bad_input_returns_2_with_one_line(args, tmp_path, capsys):
    args = [str(tmp_path / a) if a == "X" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    assert not list(tmp_path.glob("*/shard-*.npz"))


def test_shard_dataset_rejects_missing_folders(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        ShardDataset(tmp_path / "nope")
    with pytest.raises(ValueError, match="no shard"):
        ShardDataset(tmp_path)


def test_iterable_dataset_shards_seeds_across_workers():
    ds = ProceduralDataset("val", size=8, sensor=None, n=4, start=10)
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)
    seeds = sorted(int(s["seed"]) for s in loader)
    assert seeds == [split_seed("val", i) for i in range(10, 14)]
    single = [int(s["seed"]) for s in ds]
    assert single == [split_seed("val", i) for i in range(10, 14)] and len(ds) == 4
    with pytest.raises(ValueError, match="split"):
        ProceduralDataset("holdout")
