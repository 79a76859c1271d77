"""Keep new surfaces out of known free space and lift new pixels to triangles (pure functions on arrays).

The depth of a view's new pixels comes from the depth model (``text3d.run.views.complete_depth``); here it is
capped, pushed out of space earlier views saw through, and turned into mesh pieces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from text3d.geometry.masks import lift_masks
from text3d.geometry.mesh import Mesh
from text3d.geometry.projection import camera_rays, depth_to_mesh, grid_indices, pixel_index, project

# Depth multipliers tried, nearest first, for a filled pixel that lands in known free space.
PUSH_BACK_FACTORS = (1.0, 1.05, 1.1, 1.2, 1.35, 1.5, 1.75, 2.0, 2.5, 3.0)


@dataclass
class ViewDepth:
    """What the free-space test needs from an earlier view: K (3, 3), cam_to_world (4, 4) and near_depth
    (H, W) float32 metres (farthest surface near each pixel, 0 = nothing seen; see ``masks.near_depth``)."""

    K: np.ndarray
    cam_to_world: np.ndarray
    near_depth: np.ndarray


def cap_filled_depth(depth: np.ndarray, filled: np.ndarray, max_depth: float) -> np.ndarray:
    """(H, W) float32 metres: ``depth`` with its ``filled`` (H, W) bool pixels limited to ``max_depth`` metres.

    Why: in a view that is mostly unseen, depth completion has little to hold on to and can place new
    surfaces far behind everything the scene has shown so far (behind a room's walls)."""
    depth = np.asarray(depth, dtype=np.float32)
    return np.where(np.asarray(filled, dtype=bool), np.minimum(depth, np.float32(max_depth)), depth)


def in_free_space(points: np.ndarray, views: Sequence[ViewDepth], margin: float) -> np.ndarray:
    """(N,) bool: world points (N, 3) that lie in front of a surface some earlier view saw, by more than
    ``margin`` (relative) — that view would have seen them, so they contradict it."""
    bad = np.zeros(len(points), dtype=bool)
    for view in views:
        h, w = view.near_depth.shape
        uv, z = project(points, view.K, view.cam_to_world)
        row, col, inside = pixel_index(uv, h, w)
        seen = view.near_depth[row, col]
        bad |= inside & (z > 0) & (seen > 0) & (z < seen * (1.0 - margin))
    return bad


def clamp_free_space(depth: np.ndarray, new_mask: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray,
                     views: Sequence[ViewDepth], margin: float, stride: int = 1) -> tuple[np.ndarray, dict[str, int]]:
    """Push filled pixels that fall in known free space back along their rays; drop those that stay there.

    depth: (H, W) float32 metres; new_mask: (H, W) bool filled pixels to check (known pixels are trusted).
    Each offending pixel takes the smallest factor of ``PUSH_BACK_FACTORS`` that clears every earlier view;
    if none does its depth becomes 0 (not lifted). With stride > 1 only the mesh grid pixels
    (``projection.grid_indices``) are tested and every other pixel takes the factor of its nearest grid pixel.
    Returns the new depth and counts ``{"checked", "pushed", "dropped"}`` (of tested pixels).
    """
    depth = np.asarray(depth, dtype=np.float32).copy()
    h, w = depth.shape
    rows, cols = grid_indices(h, stride), grid_indices(w, stride)
    grid = np.ix_(rows, cols)
    check = (np.asarray(new_mask, bool) & np.isfinite(depth) & (depth > 0))[grid]
    idx = np.flatnonzero(check)
    stats = {"checked": int(idx.size), "pushed": 0, "dropped": 0}
    if idx.size == 0 or not views:
        return depth, stats
    origins, dirs = camera_rays(K, cam_to_world, h, w)
    o, d = origins[grid].reshape(-1, 3)[idx], dirs[grid].reshape(-1, 3)[idx]
    z = depth[grid].ravel()[idx].astype(np.float64)
    factor = np.zeros(idx.size)
    todo = np.ones(idx.size, dtype=bool)
    for f in PUSH_BACK_FACTORS:
        sel = np.flatnonzero(todo)
        bad = in_free_space(o[sel] + d[sel] * (z[sel] * f)[:, None], views, margin)
        factor[sel[~bad]] = f
        todo[sel[~bad]] = False
        if not todo.any():
            break
    stats["pushed"] = int(np.sum(factor > 1.0))
    stats["dropped"] = int(np.sum(factor == 0.0))
    grid_factor = np.ones(check.shape)
    grid_factor.ravel()[idx] = factor                              # 0 -> dropped
    if stride > 1:                                                 # nearest grid pixel for every pixel
        near_r = np.abs(np.arange(h)[:, None] - rows[None]).argmin(1)
        near_c = np.abs(np.arange(w)[:, None] - cols[None]).argmin(1)
        full = grid_factor[np.ix_(near_r, near_c)]
    else:
        full = grid_factor
    apply = np.asarray(new_mask, bool)
    depth[apply] = (depth[apply] * full[apply]).astype(np.float32)
    return depth, stats


def lift_new_pixels(depth: np.ndarray, image: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray,
                    holes: np.ndarray | None, *, dilation: int, max_grazing_deg: float,
                    stride: int = 1) -> tuple[Mesh, np.ndarray]:
    """Triangles for the filled pixels of one view (all pixels when ``holes`` is None, e.g. the first view).

    depth (H, W) float32 metres; image (H, W, 3) float32 [0, 1]; holes (H, W) bool filled pixels. The holes
    are dilated by ``dilation`` px so new triangles attach to the known surface around them; triangles
    steeper than ``max_grazing_deg`` to the viewing ray (depth discontinuities) are dropped. stride > 1
    meshes every stride-th pixel (large views); the ring then grows to at least ``stride`` px.
    Returns the new mesh piece and an (H, W) bool mask of pixels that became vertices.
    """
    if holes is None:
        return depth_to_mesh(depth, image, K, cam_to_world, max_grazing_deg=max_grazing_deg, stride=stride)
    vertex_mask, seed_mask = lift_masks(holes, max(dilation, stride if stride > 1 else 0))
    return depth_to_mesh(depth, image, K, cam_to_world, vertex_mask=vertex_mask, face_seed_mask=seed_mask,
                         max_grazing_deg=max_grazing_deg, stride=stride)
