"""Seam blending of painted holes (text3d.models.inpaint.blend): pure numpy, no model."""

from __future__ import annotations

import numpy as np
import pytest

from bench.outpainting_metrics import seam_ratio
from text3d.models.inpaint.blend import blend_seam


def offset_scene(size: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A textured wall; the model's prediction is the same wall 0.25 darker (a colour mismatch), and the
    right half is the hole."""
    rng = np.random.default_rng(0)
    wall = np.clip(0.6 + 0.03 * rng.standard_normal((size, size, 3)), 0, 1).astype(np.float32)
    predicted = (wall - 0.25).astype(np.float32)
    mask = np.zeros((size, size), bool)
    mask[:, size // 2:] = True
    return wall, predicted, mask


def test_width_zero_is_a_plain_paste():
    wall, predicted, mask = offset_scene()
    out = blend_seam(wall, predicted, mask, 0.0)
    np.testing.assert_array_equal(out, np.where(mask[..., None], predicted, wall))


def test_known_pixels_unchanged():
    wall, predicted, mask = offset_scene()
    out = blend_seam(wall, predicted, mask, 4.0)
    np.testing.assert_array_equal(out[~mask], wall[~mask])


def test_border_step_removed_and_far_content_kept():
    wall, predicted, mask = offset_scene()
    plain = blend_seam(wall, predicted, mask, 0.0)
    out = blend_seam(wall, predicted, mask, 4.0)
    # the colour step across the border: 0.25 pasted, within the wall's own texture blended
    assert seam_ratio(plain, mask) > 5
    assert seam_ratio(out, mask) < 1.5
    # 16 px into the hole the correction has faded (exp(-15 / 4) of 0.25 is 0.006)
    np.testing.assert_allclose(out[:, -1], predicted[:, -1], atol=0.01)
    # the texture of the painted content is kept (same pixel-to-pixel differences along the border column)
    col = mask.shape[1] // 2
    np.testing.assert_allclose(np.diff(out[:, col], axis=0), np.diff(predicted[:, col], axis=0), atol=0.05)


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_bad_width_is_one_clear_error(bad):
    wall, predicted, mask = offset_scene()
    with pytest.raises(ValueError, match="seam blend width"):
        blend_seam(wall, predicted, mask, bad)
