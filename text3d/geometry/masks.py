"""Hole masks of rendered views: which pixels to inpaint, which to lift, and a lenient depth for free-space tests."""

from __future__ import annotations

import numpy as np


def dilate(mask: np.ndarray, pixels: int) -> np.ndarray:
    """(H, W) bool mask grown by ``pixels`` (square structuring element); ``pixels`` <= 0 returns a copy."""
    mask = np.asarray(mask, dtype=bool)
    if pixels <= 0 or not mask.any():
        return mask.copy()
    import cv2

    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def hole_fraction(hit: np.ndarray) -> float:
    """Fraction of pixels of a (H, W) bool hit mask that the mesh leaves uncovered."""
    return float(1.0 - np.asarray(hit, dtype=bool).mean())


def lift_masks(holes: np.ndarray, dilation: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks for lifting a filled view.

    holes: (H, W) bool pixels that were filled (inpainted + completed). Returns ``vertex_mask`` (holes
    dilated by ``dilation`` px: the new pixels plus a ring of known pixels that stitches them to the mesh)
    and ``seed_mask`` (= holes: a triangle is new only if it touches a filled pixel).
    """
    holes = np.asarray(holes, dtype=bool)
    return dilate(holes, dilation), holes.copy()


def near_depth(depth: np.ndarray, pixels: int = 1) -> np.ndarray:
    """(H, W) float32: the nearest valid depth within ``pixels`` of each pixel (0 where none is valid).

    Used for free-space tests: a point counts as in front of what a view saw only if it is in front of the
    nearest surface around the pixel it projects to, so depth edges, grazing surfaces and sub-pixel
    projection offsets raise no false alarms.
    """
    depth = np.asarray(depth, dtype=np.float32)
    valid = np.isfinite(depth) & (depth > 0)
    if pixels <= 0:
        return np.where(valid, depth, 0).astype(np.float32)
    import cv2

    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    big = np.float32(np.finfo(np.float32).max)
    near = cv2.erode(np.where(valid, depth, big).astype(np.float32), kernel, borderType=cv2.BORDER_REPLICATE)
    return np.where(near < big, near, 0).astype(np.float32)
