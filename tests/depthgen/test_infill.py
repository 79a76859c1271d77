"""Depth infilling: no holes left, valid pixels untouched, sky gets the far depth."""

import numpy as np
import pytest

from depthgen.data.infill import infill_depth, sky_mask


def test_infill_fills_every_hole_and_keeps_valid():
    rng = np.random.default_rng(0)
    d = rng.uniform(1, 5, (20, 30)).astype(np.float32)
    valid = rng.random((20, 30)) > 0.4
    d[~valid] = 0
    out = infill_depth(d, valid)
    assert (out > 0).all() and np.isfinite(out).all()
    assert np.array_equal(out[valid], d[valid])
    # every filled value is one of the valid values (nearest neighbour, no blending)
    assert np.isin(out[~valid], d[valid]).all()


def test_nearest_neighbour_value():
    d = np.zeros((1, 5), np.float32)
    d[0, 0], d[0, 4] = 1.0, 9.0
    out = infill_depth(d)
    assert out.tolist() == [[1, 1, 1, 9, 9]] or out.tolist() == [[1, 1, 9, 9, 9]]


def test_outdoor_sky_gets_far_depth():
    d = np.full((10, 8), 4.0, np.float32)
    d[:4] = 0  # sky above the horizon
    d[7, 3] = 0  # a hole below the horizon
    out = infill_depth(d, outdoor=True, sky_depth=80.0)
    assert (out[:4] == 80.0).all()
    assert out[7, 3] == 4.0
    assert sky_mask(d > 0)[:4].all() and not sky_mask(d > 0)[4:].any()


def test_all_invalid_is_value_error():
    with pytest.raises(ValueError, match="no valid pixel"):
        infill_depth(np.zeros((4, 4), np.float32))
