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


def test_views_are_scored_on_the_64_px_grid():
    from bench.outpainting_metrics import at_measure_size

    rng = np.random.default_rng(0)
    small = rng.uniform(0, 1, (64, 64, 3)).astype(np.float32)
    big = np.repeat(np.repeat(small, 4, 0), 4, 1)  # a 256-px view made of 4x4 blocks
    mask = np.zeros((256, 256), bool)
    mask[:, 129:] = True  # the hole starts inside block column 32 (3 of its 4 pixels): a hole at 64 px
    im, m = at_measure_size(big, mask)
    np.testing.assert_allclose(im, small, atol=1e-6)
    assert m.shape == (64, 64) and m[:, 32:].all() and not m[:, :32].any()
    same, same_mask = at_measure_size(small, mask[::4, ::4])
    assert same is not None and np.array_equal(same, small) and same_mask.shape == (64, 64)
