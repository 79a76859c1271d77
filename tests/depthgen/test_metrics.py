import math

import numpy as np
import pytest
import torch

from depthgen.evaluation.metrics import (METRICS, PROTOCOLS, Protocol, aggregate_metrics, compute_metrics, crop_mask,
                                         eval_mask, get_protocol)


def test_metrics_match_hand_computed_values():
    gt = np.array([[1.0, 2.0], [4.0, 0.0]])  # last pixel invalid (0)
    pred = np.array([[1.9, 2.0], [3.0, 123.0]])
    m = compute_metrics(pred, gt, protocol="none")
    # scored pixels: (pred, gt) = (1.9, 1), (2, 2), (3, 4)
    assert m["n_valid"] == 3
    assert m["abs_rel"] == pytest.approx((0.9 / 1 + 0 + 1 / 4) / 3)
    assert m["sq_rel"] == pytest.approx((0.81 / 1 + 0 + 1 / 4) / 3)
    assert m["rmse"] == pytest.approx(math.sqrt((0.81 + 0 + 1) / 3))
    assert m["rmse_log"] == pytest.approx(math.sqrt((math.log(1.9) ** 2 + 0 + math.log(0.75) ** 2) / 3))
    assert m["log10"] == pytest.approx((math.log10(1.9) + 0 + abs(math.log10(0.75))) / 3)
    # ratios max(p/g, g/p) = 1.9, 1, 4/3 against 1.25, 1.5625, 1.953125
    assert m["delta1"] == pytest.approx(1 / 3)
    assert m["delta2"] == pytest.approx(2 / 3)
    assert m["delta3"] == pytest.approx(1.0)


def test_valid_mask_and_nan_ground_truth_are_ignored():
    gt = np.array([[1.0, np.nan], [3.0, 5.0]])
    pred = np.array([[1.5, 7.0], [3.0, 50.0]])
    valid = np.array([[True, True], [True, False]])
    m = compute_metrics(pred, gt, valid, protocol="none", metrics=["abs_rel"])
    assert m["n_valid"] == 2
    assert m["abs_rel"] == pytest.approx((0.5 + 0.0) / 2)
    assert set(m) == {"abs_rel", "n_valid", "scale"}


def test_caps_mask_ground_truth_and_clip_predictions():
    gt = np.array([[0.5, 5.0, 12.0]])
    pred = np.array([[1.0, 20.0, 12.0]])
    m = compute_metrics(pred, gt, protocol=get_protocol("nyu", crop="none"), metrics=["abs_rel", "rmse"])
    assert m["n_valid"] == 2  # 12 m is beyond the 10 m cap
    # pred 20 is clipped to 10 m
    assert m["abs_rel"] == pytest.approx((0.5 / 0.5 + 5.0 / 5.0) / 2)
    assert m["rmse"] == pytest.approx(math.sqrt((0.25 + 25.0) / 2))


def test_eigen_crop_at_nyu_resolution_and_scaled():
    mask = crop_mask((480, 640), "eigen")
    rows, cols = np.nonzero(mask)
    assert (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1) == (45, 471, 41, 601)
    half = crop_mask((240, 320), "eigen")
    rows, cols = np.nonzero(half)
    assert (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1) == (22, 236, 20, 300)  # round(x / 2)


def test_garg_crop_on_kitti_frame():
    h, w = 375, 1242
    mask = crop_mask((h, w), "garg")
    rows, cols = np.nonzero(mask)
    assert rows.min() == int(0.40810811 * h) == 153
    assert rows.max() + 1 == int(0.99189189 * h) == 371
    assert cols.min() == int(0.03594771 * w) == 44
    assert cols.max() + 1 == int(0.96405229 * w) == 1197


def test_crop_excludes_pixels_from_metrics():
    gt = np.full((480, 640), 2.0)
    pred = gt.copy()
    pred[0:45] = 4.0  # wrong only outside the Eigen crop
    assert compute_metrics(pred, gt, protocol="nyu")["abs_rel"] == pytest.approx(0.0)
    no_crop = get_protocol("nyu", crop="none")
    expected = 45 / 480 * 1.0  # fraction of wrong pixels times their REL of 1
    assert compute_metrics(pred, gt, protocol=no_crop)["abs_rel"] == pytest.approx(expected)


def test_median_scaling_makes_a_scaled_prediction_perfect():
    rng = np.random.default_rng(0)
    gt = rng.uniform(1, 9, size=(16, 16))
    m = compute_metrics(gt * 0.37, gt, protocol="none", median_scaling=True)
    assert m["abs_rel"] == pytest.approx(0.0, abs=1e-12)
    assert m["delta1"] == 1.0
    assert m["scale"] == pytest.approx(1 / 0.37)
    assert compute_metrics(gt * 0.37, gt, protocol="none")["abs_rel"] == pytest.approx(0.63)


def test_torch_inputs_give_the_same_values():
    rng = np.random.default_rng(1)
    gt = rng.uniform(1, 5, size=(8, 8)).astype(np.float32)
    pred = gt * rng.uniform(0.8, 1.2, size=(8, 8)).astype(np.float32)
    a = compute_metrics(pred, gt)
    b = compute_metrics(torch.from_numpy(pred), torch.from_numpy(gt))
    assert a == pytest.approx(b)


def test_empty_images_are_left_out_of_the_mean():
    gt = np.ones((4, 4))
    good = compute_metrics(gt * 1.1, gt)
    empty = compute_metrics(gt, np.zeros((4, 4)))
    assert empty["n_valid"] == 0 and math.isnan(empty["abs_rel"])
    agg = aggregate_metrics([good, empty, compute_metrics(gt * 1.3, gt)])
    assert agg["num_images"] == 2 and agg["num_empty"] == 1
    assert agg["abs_rel"] == pytest.approx((0.1 + 0.3) / 2)  # mean of per-image values


def test_registry_protocols_and_errors():
    assert set(METRICS) == {"abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "delta1", "delta2", "delta3"}
    assert PROTOCOLS["nyu"].max_depth == 10.0 and PROTOCOLS["nyu"].crop == "eigen"
    assert PROTOCOLS["kitti"].max_depth == 80.0 and PROTOCOLS["kitti"].crop == "garg"
    assert get_protocol("none", max_depth=5.0).max_depth == 5.0
    with pytest.raises(ValueError, match="unknown metric"):
        compute_metrics(np.ones((2, 2)), np.ones((2, 2)), metrics=["nope"])
    with pytest.raises(ValueError, match="unknown protocol"):
        get_protocol("middlebury")
    with pytest.raises(ValueError, match="unknown crop"):
        Protocol("x", crop="square")
    with pytest.raises(ValueError, match="min_depth"):
        get_protocol("none", min_depth=0.0)
    with pytest.raises(ValueError, match="shape"):
        compute_metrics(np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        eval_mask(np.ones((2, 2)), np.ones((3, 2), bool), PROTOCOLS["none"])
