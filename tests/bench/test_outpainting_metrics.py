"""bench.outpainting_metrics: detail, seam ratio and colour overlap on images whose answer is known."""

import numpy as np

from bench.outpainting_metrics import colour_overlap, detail, seam_ratio


def test_detail_is_zero_for_flat_and_grows_with_texture():
    flat = np.full((32, 32, 3), 0.4, np.float32)
    rng = np.random.default_rng(0)
    noisy = np.clip(flat + rng.normal(0, 0.1, flat.shape), 0, 1).astype(np.float32)
    assert detail(flat) == 0.0 and detail(noisy) > 0.05


def test_seam_ratio_sees_a_step_at_the_border_only():
    rng = np.random.default_rng(0)
    image = np.clip(0.5 + rng.normal(0, 0.05, (32, 32, 3)), 0, 1).astype(np.float32)
    mask = np.zeros((32, 32), bool)
    mask[:, 16:] = True
    seamless = seam_ratio(image, mask)
    stepped = image.copy()
    stepped[mask] = np.clip(stepped[mask] + 0.3, 0, 1)
    assert 0.8 < seamless < 1.2 and seam_ratio(stepped, mask) > 3
    assert seam_ratio(image, np.zeros((32, 32), bool)) is None


def test_colour_overlap_bounds():
    a = np.zeros((8, 8, 3), np.float32)
    b = np.ones((8, 8, 3), np.float32)
    assert colour_overlap(a, a) == 1.0 and colour_overlap(a, b) == 0.0
