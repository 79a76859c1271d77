"""depthgen.data.registry: every form loads its dataset's own layout, trains two steps and evaluates; bad specs
are one-line errors (exit 2 from the CLIs); the tar-shard converter round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from depthgen.data.registry import open_dataset, parse_mix
from depthgen.evaluation.evaluate import evaluate_model
from depthgen.train import main as train_main

from .dataset_layouts import LAYOUTS

TINY = str(Path(__file__).resolve().parents[2] / "configs" / "depthgen" / "tiny.yaml")
FAST = ["model.sample_size=16", "train.batch_size=2", "--no-progress", "--max-steps", "2"]


def check_item(item: dict) -> None:
    h, w = item["depth"].shape
    assert item["rgb"].shape == (h, w, 3) and item["rgb"].dtype == np.uint8
    assert item["depth"].dtype == np.float32 and item["valid"].dtype == bool
    assert np.all(item["depth"][~item["valid"]] == 0) and np.all(item["depth"][item["valid"]] > 0)
    assert isinstance(item["name"], str) and isinstance(item["outdoor"], bool)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_each_form_loads_trains_and_evaluates(tmp_path, layout):
    spec = LAYOUTS[layout](tmp_path / "data")
    ds = open_dataset(spec, "train")
    assert len(ds) >= 1
    for i in range(len(ds)):
        check_item(ds[i])
    if layout != "images":
        assert ds[0]["K"].shape == (3, 3) and ds[0]["valid"].any()
    stage = "pretrain" if layout == "images" else "finetune"
    assert train_main(["--config", TINY, f"train.output_dir={tmp_path / 'run'}", f"stage={stage}",
                       f"data.spec={spec}", *FAST]) == 0
    assert (tmp_path / "run" / "checkpoint-2").is_dir()
    if layout != "images":
        res = evaluate_model(lambda rgb, k, g: np.full((k, *rgb.shape[:2]), 2.0, np.float32),
                             open_dataset(spec, "test"), samples=[1])
        assert res["num_images"] >= 1 and np.isfinite(res["metrics"]["1"]["abs_rel"])


def test_layout_specifics(tmp_path):
    assert len(open_dataset(LAYOUTS["nyu_mat"](tmp_path / "n"), "train")) == 3
    assert len(open_dataset(LAYOUTS["nyu_mat"](tmp_path / "n"), "test")) == 1
    velo = open_dataset(LAYOUTS["kitti_velodyne"](tmp_path / "kv"))[0]
    assert velo["depth"][velo["valid"]].min() == pytest.approx(2.0) and velo["outdoor"]  # the nearest return
    assert velo["K"][0, 0] == 10  # from calib_cam_to_cam.txt
    hyp = open_dataset(LAYOUTS["hypersim"](tmp_path / "h"))[0]
    assert not hyp["valid"][0, 0] and hyp["depth"][6, 8] == pytest.approx(1.0 + 2.0 * 6 / 11, abs=2e-3)  # centre: z = d
    vk = open_dataset(LAYOUTS["vkitti2"](tmp_path / "v"))[0]
    assert not vk["valid"][0].any() and vk["valid"][1:].all() and vk["K"][0, 0] == 20
    sc = open_dataset(LAYOUTS["scannet"](tmp_path / "s"))[0]
    assert sc["rgb"].shape[:2] == sc["depth"].shape and sc["K"][0, 0] == 12
    di = open_dataset(LAYOUTS["diode"](tmp_path / "d"))
    assert [di[i]["outdoor"] for i in range(2)] == [False, True] and not di[0]["valid"][:2].any()
    fo = open_dataset(LAYOUTS["folder"](tmp_path / "f") + "?frames=0-599")
    assert fo.names == ["000000", "000596"] and fo[0]["outdoor"] and fo[0]["K"][0, 0] == 30 and fo[1]["K"][0, 0] == 20


@pytest.mark.parametrize("spec, message", [
    ("web:x", "unknown data form 'web'"),
    ("folder:/no/such/dir", "not found"),
    ("nyu:/no/such.mat", "not found"),
    ("kitti:a:b", "must be kitti:"),
    ("diode:/no/such", "not found"),
    ("folder:DATA?frames=700-800", "selects no sample"),
    ("folder:DATA?colour=red", "unknown option"),
])
def test_bad_specs_are_one_line_errors_and_exit_2(tmp_path, capsys, spec, message):
    spec = spec.replace("DATA", str(tmp_path / "f"))
    LAYOUTS["folder"](tmp_path / "f")
    with pytest.raises(ValueError, match=message):
        open_dataset(spec)
    assert train_main(["--config", TINY, f"train.output_dir={tmp_path / 'run'}", f"data.spec={spec}", *FAST]) == 2
    from depthgen.evaluate import main as eval_main

    model = tmp_path / "model"
    model.mkdir()
    (model / "model_index.json").write_text("{}")
    capsys.readouterr()
    assert eval_main(["--model", str(model), "--data", spec, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message.split("'")[0] in err


def test_wrong_layout_is_named(tmp_path):
    (tmp_path / "Scene01").mkdir()
    with pytest.raises(ValueError, match="no Virtual KITTI 2 frames"):
        open_dataset(f"vkitti2:{tmp_path}")
    with pytest.raises(ValueError, match="no Hypersim depth maps"):
        open_dataset(f"hypersim:{tmp_path}")


@pytest.mark.parametrize("text, message", [("synthetic@0", "must be > 0"), ("synthetic@-1", "must be > 0"),
                                           ("synthetic", "has no weight"), ("synthetic@x", "must be a number")])
def test_bad_mixture_weights(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        parse_mix(text)
    assert train_main(["--config", TINY, f"train.output_dir={tmp_path / 'run'}", f"data.mix={text}", *FAST]) == 2


def test_converter_round_trips(tmp_path):
    from depthgen.data.convert import main as convert_main

    spec = LAYOUTS["folder"](tmp_path / "f")
    assert convert_main([spec, "--out", str(tmp_path / "shards"), "--shard-size", "2"]) == 0
    src, back = open_dataset(spec), open_dataset(f"shards:{tmp_path / 'shards'}")
    assert len(back) == len(src) == 3 and len(list((tmp_path / "shards").glob("shard-*.tar"))) == 2
    for i in range(3):
        a, b = src[i], back[i]
        for key in ("rgb", "depth", "valid", "K"):
            np.testing.assert_array_equal(a[key], b[key])
        assert (a["name"], a["outdoor"]) == (b["name"], b["outdoor"])
    assert convert_main(["web:x", "--out", str(tmp_path / "bad")]) == 2


def test_shards_are_plain_tar_in_webdataset_naming(tmp_path):
    import tarfile

    from depthgen.data.convert import main as convert_main

    assert convert_main([LAYOUTS["folder"](tmp_path / "f"), "--out", str(tmp_path / "s")]) == 0
    with tarfile.open(tmp_path / "s" / "shard-00000.tar") as tar:
        names = tar.getnames()
    assert names[:3] == ["000000000.rgb.png", "000000000.depth.npy", "000000000.json"]
