"""--data spec parsing and the procedural evaluation split (faked generator, plus the real one when present)."""

import sys
import types

import cv2
import h5py
import numpy as np
import pytest

from depthgen.data.eval_sets import ProceduralEvalSet, parse_data_spec
from depthgen.data.folder import FolderDataset, write_folder_meta, write_folder_sample
from depthgen.data.kitti import KITTIEigen
from depthgen.data.nyu import NYUv2Labeled


def test_folder_nyu_kitti_specs(tmp_path):
    root = tmp_path / "f"
    write_folder_sample(root, "a", np.zeros((4, 4, 3), np.uint8), np.ones((4, 4)), depth_scale=256)
    ds = parse_data_spec(f"folder:{root}", depth_scale=256)
    assert isinstance(ds, FolderDataset) and ds.depth_scale == 256
    with pytest.raises(ValueError, match="depth scale"):
        parse_data_spec(f"folder:{root}")
    write_folder_meta(root, 256)
    assert len(parse_data_spec(f"folder:{root}")) == 1

    with h5py.File(tmp_path / "nyu.mat", "w") as f:
        f.create_dataset("images", data=np.zeros((3, 3, 8, 6), np.uint8))
        f.create_dataset("depths", data=np.ones((3, 8, 6), np.float32))
    (tmp_path / "idx.txt").write_text("2 3")
    nyu = parse_data_spec(f"nyu:{tmp_path / 'nyu.mat'}:{tmp_path / 'idx.txt'}")
    assert isinstance(nyu, NYUv2Labeled) and len(nyu) == 2 and nyu.protocol == "nyu"
    assert len(parse_data_spec(f"nyu:{tmp_path / 'nyu.mat'}")) == 3
    with pytest.raises(ValueError, match="split must be"):
        parse_data_spec(f"nyu:{tmp_path / 'nyu.mat'}:{tmp_path / 'idx.txt'}:val")

    (tmp_path / "raw" / "d").mkdir(parents=True)
    (tmp_path / "gt" / "d").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "raw" / "d" / "0.png"), np.zeros((4, 6, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "gt" / "d" / "0.png"), np.full((4, 6), 512, np.uint16))
    (tmp_path / "list.txt").write_text("d/0.png d/0.png\n")
    kitti = parse_data_spec(f"kitti:{tmp_path / 'raw'}:{tmp_path / 'gt'}:{tmp_path / 'list.txt'}")
    assert isinstance(kitti, KITTIEigen) and kitti.protocol == "kitti"
    assert np.all(kitti[0]["depth"] == 2.0)


@pytest.mark.parametrize("spec, kind, n, size", [
    ("procedural:test", "all", 100, (240, 320)),
    ("procedural:test:indoor:200", "indoor", 200, (240, 320)),
    ("procedural:val:outdoor:5:96x64", "outdoor", 5, (64, 96)),  # typed WxH, held (H, W)
    ("procedural:test:7", "all", 7, (240, 320)),
])
def test_procedural_spec_fields(spec, kind, n, size):
    ds = parse_data_spec(spec)  # nothing is rendered until an item is read
    assert isinstance(ds, ProceduralEvalSet)
    assert (ds.kind, len(ds), ds.size) == (kind, n, size)
    assert ds.default_crop == "none"


@pytest.mark.parametrize("spec, message", [
    ("procedural:test:1:8x8?sensor=sonar", "sensor must be"),
    ("procedural:holdout", "split must be"),
    ("procedural:test:kitchen", "bad procedural spec field"),
    ("procedural:test:0", ">= 1"),
    ("folder:", "must be folder:DIR"),
    ("nyu:", "must be nyu:"),
    ("kitti:a:b:c:d", "must be kitti:"),
    ("middlebury:x", "unknown data form 'middlebury'"),
    ("procedural:test?colour=red", "unknown option"),
])
def test_bad_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_data_spec(spec)


@pytest.fixture
def fake_procedural(monkeypatch):
    """A stand-in for depthgen.data.procedural: even split indices are indoor, odd ones outdoor."""
    calls = []

    def split_seed(split, index):
        return {"train": 0, "val": 10_000, "test": 20_000}[split] + index

    def generate_sample(seed, size=(64, 64), sensor="kinect"):
        calls.append(seed)
        i = seed - 20_000
        h, w = size
        depth = np.full((h, w), 2.0 + i, np.float32)
        depth[0, 0] = 0.0  # sky
        return {"rgb": np.full((h, w, 3), i, np.uint8), "depth": depth, "valid": depth > 0,
                "sensor_depth": depth, "outdoor": bool(i % 2), "scene_type": "x", "caption": f"scene {i}",
                "seed": seed}

    import depthgen.data.procedural.dataset as dataset

    monkeypatch.setattr(dataset, "split_seed", split_seed)
    monkeypatch.setattr(dataset, "generate_sample", generate_sample)
    return calls


def test_procedural_filters_by_kind_and_renders_each_scene_once(fake_procedural):
    ds = parse_data_spec("procedural:test:outdoor:3:10x8")  # WxH
    names = [ds[i]["name"] for i in range(3)]
    assert names == ["test_00001", "test_00003", "test_00005"]
    assert fake_procedural == [20_000, 20_001, 20_002, 20_003, 20_004, 20_005]  # scanned in order, once each
    item = ds[1]
    assert item["outdoor"] and item["protocol"] == "kitti" and item["rgb"].shape == (8, 10, 3)
    assert item["depth"][0, 0] == 0 and not item["valid"][0, 0] and item["depth"][1, 1] == 5.0
    assert ds.protocol == "kitti"
    mixed = parse_data_spec("procedural:test:4:10x8")
    assert [mixed[i]["protocol"] for i in range(4)] == ["nyu", "kitti", "nyu", "kitti"]
    assert mixed.protocol is None


def test_procedural_scan_gives_up_with_a_clear_error(fake_procedural):
    ds = ProceduralEvalSet("test", "indoor", n=5, size=(8, 8), max_scan=4)
    with pytest.raises(ValueError, match="only 2 indoor scenes"):
        ds[4]


def test_procedural_with_the_real_generator():
    proc = pytest.importorskip("depthgen.data.procedural")
    if not hasattr(proc, "generate_sample"):
        pytest.skip("depthgen.data.procedural.generate_sample not available yet")
    ds = parse_data_spec("procedural:test:1:40x32")  # WxH
    item = ds[0]
    assert item["rgb"].shape == (32, 40, 3) and item["rgb"].dtype == np.uint8
    assert item["depth"].shape == (32, 40) and item["depth"].dtype == np.float32
    assert item["protocol"] in ("nyu", "kitti") and item["valid"].any()
    expected = proc.generate_sample(proc.split_seed("test", 0), size=(32, 40), sensor=None)
    np.testing.assert_array_equal(item["depth"][item["valid"]], expected["depth"][item["valid"]])
