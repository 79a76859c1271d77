"""bench.precision's scoring: identical outputs score no difference, a known offset scores as expected."""

from __future__ import annotations

import numpy as np
import pytest

from bench.precision import compare


def test_depth_scores_the_mean_relative_difference():
    full = np.full((4, 4), 2.0, np.float32)
    assert compare("depthgen", full, full)["mean_rel_diff"] == 0.0
    assert compare("depthgen", full * 1.01, full)["mean_rel_diff"] == pytest.approx(0.01, rel=1e-4)


def test_images_score_psnr_and_the_largest_difference():
    full = np.zeros((4, 4, 3), np.float32)
    half = full.copy()
    half[0, 0, 0] = 0.1
    scores = compare("t2i", half, full)
    assert scores["max_abs_diff"] == pytest.approx(0.1)
    assert scores["psnr_db"] == pytest.approx(10 * np.log10(48 / 0.01), rel=1e-4)  # mse = 0.01 / 48
