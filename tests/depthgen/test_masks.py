"""Mask generators: seeded, non-trivial, and disocclusion holes where the geometry says they are."""

import numpy as np
import pytest
import torch

from depthgen.data.masks import default_intrinsics, sample_mask, warp_holes


@pytest.mark.parametrize("kind", ["brush", "box", "uncrop", "disocclusion", "turn"])
def test_masks_seeded_and_nontrivial(kind):
    a = sample_mask(kind, 32, 40, torch.Generator().manual_seed(5))
    b = sample_mask(kind, 32, 40, torch.Generator().manual_seed(5))
    assert a.shape == (32, 40) and a.dtype == bool
    assert np.array_equal(a, b)
    assert a.any() and not a.all()


def test_identity_motion_has_no_holes():
    d = np.full((16, 16), 3.0, np.float32)
    assert not warp_holes(d, default_intrinsics(16, 16), np.eye(3), np.zeros(3)).any()


def test_sideways_motion_opens_holes_behind_foreground():
    h, w = 32, 32
    d = np.full((h, w), 10.0, np.float32)
    d[8:24, 12:20] = 1.0  # a near box in front of a far wall
    K = default_intrinsics(h, w)
    holes = warp_holes(d, K, np.eye(3), np.array([0.2, 0.0, 0.0]))  # camera moves left (points move right)
    assert holes[8:24].any()
    assert not holes[:6].any()  # the far wall shifts by about half a pixel: the 2x2 splat leaves no crack
    # the hole lies beside the box, not on the top rows of the wall
    cols = np.where(holes[10:22].any(0))[0]
    assert cols.size and cols.min() >= 12


def test_disocclusion_mask_uses_depth():
    d = np.full((32, 32), 10.0, np.float32)
    d[8:24, 12:20] = 1.0
    m = sample_mask("disocclusion", 32, 32, torch.Generator().manual_seed(0), depth=d)
    assert m.any() and not m.all()


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown mask kind"):
        sample_mask("star", 8, 8, torch.Generator())


def test_turn_mask_hides_one_side_like_an_orbit_step():
    """Each draw hides a full-height strip of 30-85% on the left or the right (both sides occur), plus the
    disocclusion holes the depth gives."""
    from depthgen.data.masks import turn_mask

    g = torch.Generator().manual_seed(0)
    depth = np.random.default_rng(0).uniform(1.0, 5.0, (32, 40)).astype(np.float32)
    sides = set()
    for _ in range(12):
        m = turn_mask(32, 40, g)
        cols = m.all(axis=0)
        assert m.any(axis=0).sum() == cols.sum()            # without depth: only the strip, full height
        assert 0.3 * 40 - 1 <= cols.sum() <= 0.85 * 40 + 1
        sides.add("left" if cols[0] else "right")
        assert cols[0] != cols[-1]
    assert sides == {"left", "right"}
    with_depth = turn_mask(32, 40, torch.Generator().manual_seed(1), depth)
    strip = turn_mask(32, 40, torch.Generator().manual_seed(1))
    assert (with_depth >= strip).all()                      # the same strip, and maybe more
