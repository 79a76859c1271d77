"""Depth completion (complete / align), the free-space clamp and lifting only new pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from text3d.fakes import PlaneDepth
from text3d.geometry.cameras import intrinsics_from_fov, make_pose
from text3d.geometry.lift import ViewDepth, cap_filled_depth, clamp_free_space, in_free_space, lift_new_pixels
from text3d.geometry.masks import dilate, near_depth
from text3d.geometry.projection import unproject
from text3d.run.views import complete_depth


def _known(h=8, w=8):
    known = np.zeros((h, w), bool)
    known[:, : w // 2] = True
    depth = np.where(known, 2.0 + np.arange(w)[None] * 0.01, 0.0).astype(np.float32)
    return depth, known


def test_complete_keeps_known_pixels_and_zero_uncertainty_there():
    depth, known = _known()
    res = complete_depth(PlaneDepth(5.0), np.zeros((8, 8, 3), np.float32), depth, known, mode="complete",
                         steps=2, samples=3, generator=torch.Generator().manual_seed(0))
    assert np.array_equal(res.depth[known], depth[known])
    assert np.all(res.uncertainty[known] == 0) and np.all(res.depth[~known] > 0)


def test_no_known_pixel_means_plain_prediction():
    res = complete_depth(PlaneDepth(5.0, noise=0.0), np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.float32),
                         np.zeros((4, 4), bool), mode="complete", steps=1, samples=1, generator=torch.Generator())
    assert np.allclose(res.depth, 5.0)


def test_align_mode_scales_prediction_onto_known_pixels():
    pytest.importorskip("depthgen.evaluation.align",
                        reason="depthgen.evaluation.align (align_scale_shift) is not written yet")
    depth, known = _known(16, 16)
    res = complete_depth(PlaneDepth(5.0, noise=0.05), np.zeros((16, 16, 3), np.float32), depth, known, mode="align",
                         steps=1, samples=2, generator=torch.Generator().manual_seed(0))
    assert np.array_equal(res.depth[known], depth[known])
    assert abs(np.median(res.depth[~known]) - np.median(depth[known])) < 0.2   # moved from 5 m to about 2 m


def test_unknown_completion_mode_is_a_value_error():
    depth, known = _known()
    with pytest.raises(ValueError, match="depth_completion"):
        complete_depth(PlaneDepth(), np.zeros((8, 8, 3)), depth, known, mode="guess", steps=1, samples=1,
                       generator=torch.Generator())


def test_free_space_clamp_pushes_points_behind_a_seen_wall():
    h = w = 16
    K = intrinsics_from_fov(60.0, w, h)
    # an earlier view at the origin saw a wall 4 m away everywhere
    prior = [ViewDepth(K, np.eye(4), near_depth(np.full((h, w), 4.0, np.float32)))]
    pose = make_pose(np.eye(3), np.array([0.2, 0.0, 0.0]))     # the new view, 20 cm to the right
    depth = np.full((h, w), 2.0, np.float32)                  # filled 2 m: in front of the seen wall
    new = np.zeros((h, w), bool)
    new[4:12, 4:12] = True
    out, stats = clamp_free_space(depth, new, K, pose, prior, margin=0.03)
    assert stats["checked"] == 64 and stats["pushed"] == 64 and stats["dropped"] == 0
    assert np.all(out[~new] == 2.0)                           # unchecked pixels untouched
    pts = unproject(out, K, pose)[new]
    assert not in_free_space(pts, prior, 0.03).any()
    assert np.all(out[new] >= 4.0 * 0.97 - 1e-6) and np.all(out[new] <= 2.0 * 3.0)


def test_points_that_cannot_leave_free_space_are_dropped():
    h = w = 8
    K = intrinsics_from_fov(60.0, w, h)
    prior = [ViewDepth(K, np.eye(4), np.full((h, w), 100.0, np.float32))]   # seen empty up to 100 m
    out, stats = clamp_free_space(np.full((h, w), 2.0, np.float32), np.ones((h, w), bool), K, np.eye(4), prior, 0.03)
    assert stats["dropped"] == h * w and np.all(out == 0)


def test_lift_new_pixels_only_touches_holes():
    h = w = 10
    K = intrinsics_from_fov(60.0, w, h)
    holes = np.zeros((h, w), bool)
    holes[3:6, 3:6] = True
    mesh, used = lift_new_pixels(np.full((h, w), 3.0, np.float32), np.zeros((h, w, 3), np.float32), K, np.eye(4),
                                 holes, dilation=1, max_grazing_deg=86.0)
    assert mesh.n_faces > 0 and not (used & ~dilate(holes, 1)).any()
    first, used0 = lift_new_pixels(np.full((h, w), 3.0, np.float32), np.zeros((h, w, 3), np.float32), K,
                                   np.eye(4), None, dilation=1, max_grazing_deg=86.0)
    assert first.n_faces == 2 * 9 * 9 and used0.all()


def test_strided_clamp_tests_grid_pixels_and_spreads_their_factors():
    h = w = 9
    K = intrinsics_from_fov(60.0, w, h)
    prior = [ViewDepth(K, np.eye(4), near_depth(np.full((h, w), 4.0, np.float32)))]
    pose = make_pose(np.eye(3), np.array([0.2, 0.0, 0.0]))
    new = np.ones((h, w), bool)
    full, stats_full = clamp_free_space(np.full((h, w), 2.0, np.float32), new, K, pose, prior, 0.03)
    strided, stats = clamp_free_space(np.full((h, w), 2.0, np.float32), new, K, pose, prior, 0.03, stride=2)
    assert stats["checked"] == 25 and stats_full["checked"] == 81      # rows/cols 0, 2, 4, 6, 8
    assert np.array_equal(strided[::2, ::2], full[::2, ::2])            # grid pixels: the same answer
    assert (full[::2, ::2] > 2.0).sum() > 10                            # ... which pushed most of them back
    # every other pixel took the factor of its nearest grid pixel (ties: the earlier one)
    near = np.array([0, 0, 2, 2, 4, 4, 6, 6, 8])
    assert np.allclose(strided, full[np.ix_(near, near)])


def test_cap_filled_depth_limits_only_filled_pixels():
    depth = np.array([[1.0, 9.0], [9.0, 2.0]], np.float32)
    filled = np.array([[False, True], [False, True]])
    out = cap_filled_depth(depth, filled, 4.0)
    assert out.dtype == np.float32 and out.tolist() == [[1.0, 4.0], [9.0, 2.0]]
