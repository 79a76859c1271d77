"""Benchmark helpers without models: report writing, the seam band, sparsification / AUSE, Chamfer / F-score,
the results page for benchmarks not yet run."""

import json

import numpy as np
import pytest

from bench import common
from bench.completion import seam_band
from bench.geometry_metrics import chamfer_fscore
from bench.inpainting import MAX_PSNR, by_hole_size, mae, psnr, size_line
from bench.results import main as results_main
from bench.uncertainty import FRACTIONS, ause, sparsification, spearman


def test_json_is_strict_and_outputs_are_complete(tmp_path):
    import argparse

    report = common.new_report("demo", argparse.Namespace(quick=True, seed=0, out_dir=tmp_path), "cpu")
    report["results"] = {"x": float("nan"), "y": np.float32(1.5), "z": np.arange(3), "ok": np.bool_(True)}
    fig = common.pyplot().figure()
    paths = common.write_outputs(report, tmp_path, "Demo", lambda r: f"value {common.fmt(r['results']['x'])}",
                                 {"": fig})
    data = json.loads(paths["json"].read_text())  # strict JSON: NaN became null
    assert data["results"] == {"x": None, "y": 1.5, "z": [0, 1, 2], "ok": True}
    assert data["wall_s"] >= 0 and data["machine"]["logical_cores"] >= 1 and "torch" in data["machine"]
    assert data["figures"] == ["bench_demo.png"] and (tmp_path / "bench_demo.png").stat().st_size > 0
    md = paths["md"].read_text()
    assert md.startswith("# Demo") and "value n/a" in md and "Quick mode" in md
    assert not list(tmp_path.glob(".*.tmp"))  # temporary names were renamed


def test_seam_band_is_the_inner_ring_of_the_hole():
    hole = np.zeros((20, 20), bool)
    hole[5:15, 5:15] = True
    band = seam_band(hole, 3)
    assert not (band & ~hole).any()
    assert band[5, 5:15].all() and band[7, 7] and not band[8, 8] and not band[10, 10]
    assert band.sum() == 100 - 16  # a 10x10 hole minus its 4x4 core farther than 3 px from the border
    assert (seam_band(hole, 1) <= band).all()
    with pytest.raises(ValueError):
        seam_band(hole, 0)


def test_psnr_and_mae_on_known_offsets_inside_the_mask():
    rng = np.random.default_rng(0)
    target = rng.random((12, 16, 3))
    mask = np.zeros((12, 16), bool)
    mask[3:9, 4:10] = True
    assert psnr(target, target, mask) == MAX_PSNR and mae(target, target, mask) == 0.0  # identical: the cap
    off = target + 0.1  # a constant offset of 0.1: MSE 0.01, PSNR 20 dB, MAE 0.1
    assert psnr(off, target, mask) == pytest.approx(20.0) and mae(off, target, mask) == pytest.approx(0.1)
    garbage = np.where(mask[..., None], off, 1.0 - target)  # pixels outside the mask do not count
    assert psnr(garbage, target, mask) == pytest.approx(20.0) and mae(garbage, target, mask) == pytest.approx(0.1)
    assert psnr(garbage, target, ~mask) < 20.0
    assert np.isnan(psnr(off, target, np.zeros_like(mask))) and np.isnan(mae(off, target, np.zeros_like(mask)))
    with pytest.raises(ValueError):
        psnr(off, target, mask[:-1])


def test_inpainting_scores_split_by_hole_size():
    scores = {m: {"hole": {"psnr": [20.0, 30.0, 10.0]}} for m in ("model", "telea", "ns")}
    scores["telea"]["hole"]["psnr"] = [21.0, 29.0, 15.0]
    split = by_hole_size(scores, [0.1, 0.29, 0.3], 0.3)
    assert split["small"] == {"num_images": 2, "psnr": {"model": 25.0, "telea": 25.0, "ns": 25.0}}
    assert split["large"] == {"num_images": 1, "psnr": {"model": 10.0, "telea": 15.0, "ns": 10.0}}
    line = size_line(split)
    assert "under 30% of the picture (2 images, the expected fill): model 25.00 dB, Telea 25.00 dB" in line
    assert "at least 30% of the picture (1 images, sampled paint): model 10.00 dB, Telea 15.00 dB" in line
    assert "Every hole is sampled" in size_line(by_hole_size(scores, [0.1, 0.2, 0.5], 0.0))


def test_sparsification_oracle_is_best_and_perfect_uncertainty_has_zero_ause():
    rng = np.random.default_rng(0)
    err = rng.exponential(1.0, 5000)
    oracle = sparsification(err, err)
    assert oracle[0] == pytest.approx(err.mean()) and np.all(np.diff(oracle) <= 1e-12)
    assert ause(oracle, oracle) == 0.0
    noisy = sparsification(err, err + rng.normal(0, 0.5, err.size))
    rand = sparsification(err, rng.random(err.size))
    assert np.all(noisy >= oracle - 1e-12) and ause(noisy, oracle) > 0
    assert ause(rand, oracle) > ause(noisy, oracle)  # informative uncertainty beats a random ordering
    assert len(oracle) == len(FRACTIONS)
    assert spearman(err, err) == pytest.approx(1.0) and np.isnan(spearman(np.ones(5), err[:5]))


def test_chamfer_and_fscore_on_known_offsets():
    gt = np.random.default_rng(1).random((2000, 3))
    same = chamfer_fscore(gt, gt)
    assert same["chamfer"] == 0 and same["fscore@0.05"] == 1.0 and same["fscore@0.1"] == 1.0
    moved = chamfer_fscore(gt + [0.07, 0, 0], gt)
    assert moved["fscore@0.1"] > moved["fscore@0.05"]
    assert moved["accuracy"] <= 0.07 + 1e-9 and moved["chamfer"] > 0
    assert np.isnan(chamfer_fscore(np.zeros((0, 3)), gt)["chamfer"])


def test_results_page_says_plainly_what_was_not_run(tmp_path):
    assert results_main(["--docs", str(tmp_path)]) == 0
    page = (tmp_path / "RESULTS.md").read_text()
    for cmd in ("bench.depth_accuracy", "bench.ablations", "bench.completion", "bench.inpainting",
                "bench.reconstruction", "bench.speed", "bench.uncertainty", "bench.bench_t2i", "bench.bench_procedural"):
        assert cmd in page
    from bench.results import EXTERNAL, SECTIONS

    assert page.count("**Not yet run.**") == len(SECTIONS) + len(EXTERNAL)
    (tmp_path / "bench_speed.json").write_text("{broken")
    assert results_main(["--docs", str(tmp_path)]) == 0
    assert "could not be read" in (tmp_path / "RESULTS.md").read_text()
    assert results_main(["--docs", str(tmp_path / "missing")]) == 2


def test_reconstruction_gives_narrow_cameras_enough_orbit_views():
    from bench.reconstruction import scene_views
    from text3d.config import TrajectoryConfig

    orbit = TrajectoryConfig(name="orbit", views=8, orbit_degrees=360.0, min_overlap_deg=15.0)
    assert scene_views(None, orbit, 70.0) == 8          # the preset's views already overlap
    assert scene_views(None, orbit, 59.2) == 9          # 45 deg per view would leave < 15 deg of overlap
    assert scene_views(5, orbit, 59.2) == 5             # an explicit --views is the user's choice
    walk = TrajectoryConfig(name="walk", views=8)
    assert scene_views(None, walk, 55.0) is None


def test_reports_name_repository_paths_relative_to_the_root():
    import argparse

    args = argparse.Namespace(model=str(common.ASSETS / "depthgen"), out_dir=common.DOCS, data="/elsewhere/set", n=3)
    report = common.new_report("x", args)
    assert report["settings"]["model"] == "assets/depthgen" and report["settings"]["out_dir"] == "docs"
    assert report["settings"]["data"] == "/elsewhere/set" and report["settings"]["n"] == 3
    assert common.jsonable({"path": common.ROOT / "runs" / "a"}) == {"path": "runs/a"}
