"""Fill invalid depth pixels before noising (DepthGen's depth infilling).

Diffusion needs a complete target: noising a map with holes would teach the model to produce holes. The
loss is still computed on valid pixels only; infilling only gives the invalid ones plausible values.
Nearest-neighbour fill uses the indices from ``scipy.ndimage.distance_transform_edt``. For outdoor
scenes, the sky (invalid pixels with no valid pixel above them in their column, i.e. above the horizon /
no lidar return) gets ``sky_depth`` (the far limit) instead of the nearest ground value.
"""

from __future__ import annotations

import numpy as np


def sky_mask(valid: np.ndarray) -> np.ndarray:
    """(H, W) bool: invalid pixels connected to the top border along their column (no valid pixel above)."""
    seen_valid = np.logical_or.accumulate(valid, axis=0)  # True from the first valid row downwards
    return ~seen_valid


def infill_depth(depth: np.ndarray, valid: np.ndarray | None = None, outdoor: bool = False,
                 sky_depth: float | None = None) -> np.ndarray:
    """Return a copy of ``depth`` (H, W) float32 metres with every invalid pixel filled.

    valid: (H, W) bool (default: finite and > 0). outdoor: fill sky with ``sky_depth`` (default: the
    largest valid depth). A map without any valid pixel -> ValueError.
    """
    depth = np.asarray(depth, dtype=np.float32)
    if depth.ndim != 2:
        raise ValueError(f"depth must be (H, W), got shape {depth.shape}")
    if valid is None:
        valid = np.isfinite(depth) & (depth > 0)
    valid = np.asarray(valid, dtype=bool)
    if valid.shape != depth.shape:
        raise ValueError(f"valid mask shape {valid.shape} differs from depth shape {depth.shape}")
    if valid.all():
        return depth.copy()
    if not valid.any():
        raise ValueError("depth map has no valid pixel to infill from")
    from scipy.ndimage import distance_transform_edt

    # Indices of the nearest valid pixel for every pixel (zeros of the input = valid pixels).
    _, (iy, ix) = distance_transform_edt(~valid, return_indices=True)
    out = depth[iy, ix].astype(np.float32)
    if outdoor:
        sky = sky_mask(valid)
        out[sky] = float(depth[valid].max()) if sky_depth is None else float(sky_depth)
    return out
