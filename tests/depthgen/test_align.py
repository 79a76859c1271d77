import numpy as np
import pytest
import torch

from depthgen.evaluation.align import align_scale_shift, fit_scale_shift, median_scale


def _scene(seed=0, shape=(24, 32)):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 8.0, size=shape)


def test_recovers_known_scale_and_shift_exactly():
    target = _scene()
    pred = (target - 0.7) / 2.5  # target = 2.5 * pred + 0.7
    aligned, scale, shift = align_scale_shift(pred, target)
    assert scale == pytest.approx(2.5, rel=1e-9) and shift == pytest.approx(0.7, rel=1e-9)
    np.testing.assert_allclose(aligned, target, rtol=1e-5)
    assert aligned.dtype == np.float32 and aligned.shape == target.shape


def test_fits_only_on_the_mask_and_applies_everywhere():
    target = _scene(1)
    pred = (target + 0.3) / 1.7
    mask = np.zeros_like(target, dtype=bool)
    mask[:5, :7] = True
    corrupted = target.copy()
    corrupted[~mask] = 100.0  # unknown pixels must not influence the fit
    aligned, scale, shift = align_scale_shift(pred, corrupted, mask)
    assert scale == pytest.approx(1.7) and shift == pytest.approx(-0.3)
    np.testing.assert_allclose(aligned, target, rtol=1e-5)  # extrapolated to the unmasked pixels


def test_invalid_target_pixels_are_never_used():
    target = _scene(2)
    pred = target * 0.5 + 1.0
    target_holes = target.copy()
    target_holes[::3] = 0.0
    target_holes[1, 1] = np.nan
    _, scale, shift = align_scale_shift(pred, target_holes)
    assert scale == pytest.approx(2.0) and shift == pytest.approx(-2.0)


def test_disparity_space_recovers_inverse_depth_affine():
    target = _scene(3)
    disp_pred = (1.0 / target - 0.05) / 3.0  # 1/target = 3 * disp_pred + 0.05
    aligned, scale, shift = align_scale_shift(disp_pred, target, space="disparity", pred_is_disparity=True)
    assert scale == pytest.approx(3.0) and shift == pytest.approx(0.05)
    np.testing.assert_allclose(aligned, target, rtol=1e-5)
    depth_pred = 1.0 / disp_pred  # the same prediction given as depth
    aligned2, scale2, _ = align_scale_shift(depth_pred, target, space="disparity")
    assert scale2 == pytest.approx(3.0)
    np.testing.assert_allclose(aligned2, target, rtol=1e-5)


def test_robust_fit_ignores_a_minority_of_outliers():
    target = _scene(4, (40, 40))
    pred = (target - 0.2) / 1.5
    rng = np.random.default_rng(0)
    bad = rng.random(target.shape) < 0.1
    wrong = target.copy()
    wrong[bad] += 30.0
    _, s_plain, _ = align_scale_shift(pred, wrong)
    _, s_robust, t_robust = align_scale_shift(pred, wrong, robust=True)
    assert abs(s_plain - 1.5) > 0.1  # plain least squares is pulled away
    assert s_robust == pytest.approx(1.5, rel=1e-3) and t_robust == pytest.approx(0.2, abs=1e-2)


def test_torch_inputs_and_degenerate_cases():
    target = _scene(5)
    pred = target / 2.0
    _, scale, shift = align_scale_shift(torch.from_numpy(pred), torch.from_numpy(target))
    assert scale == pytest.approx(2.0) and shift == pytest.approx(0.0, abs=1e-9)
    s, t = fit_scale_shift(np.full(10, 3.0), np.arange(10.0))  # constant prediction: shift to the mean
    assert s == 1.0 and t == pytest.approx(4.5 - 3.0)
    with pytest.raises(ValueError, match="at least 2"):
        align_scale_shift(pred, target, np.zeros_like(target, dtype=bool))
    with pytest.raises(ValueError, match="shape"):
        align_scale_shift(pred[:, :3], target)
    with pytest.raises(ValueError, match="space"):
        align_scale_shift(pred, target, space="log")


def test_median_scale():
    target = _scene(6)
    scaled, scale = median_scale(target * 4.0, target)
    assert scale == pytest.approx(0.25)
    np.testing.assert_allclose(scaled, target, rtol=1e-6)
    with pytest.raises(ValueError, match="known pixel"):
        median_scale(target, np.zeros_like(target))
