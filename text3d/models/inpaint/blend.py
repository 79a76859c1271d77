"""Seam blending of painted holes: match the painted colours to the known ones along the hole's border.

The sampler keeps the known region on its own noisy trajectory, but the painted hole can still meet the known
pixels with a colour step: in text-to-3D the known part of a new view is a blurred re-render of the mesh, the
painted part is sharp and may carry another wall shade. ``blend_seam`` takes, at every border pixel, the local
mean colour of the known pixels there minus the local mean of the painted pixels beside them, carries that
offset from each hole pixel's nearest border pixel into the hole, and adds it with a weight that decays with
the distance from the border (``exp(-(d - 1) / width)``): the border becomes continuous, content deep in the
hole keeps its colours, and the known pixels are not touched. A membrane correction in the spirit of
gradient-domain cloning (Farbman et al. 2009), local and cheap. Measured (bench.outpainting's seam ratio,
dev prompts, 64 px): 2.32 pasted, 0.86 blended at width 4 (true renders cut by the same masks: about 0.87).
"""

from __future__ import annotations

import cv2
import numpy as np


def _smooth_over(values: np.ndarray, region: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian average (H, W, C) of ``values`` over the ``region`` (H, W) bool pixels only (normalised
    convolution); 0 where no pixel of the region is near."""
    w = cv2.GaussianBlur(region.astype(np.float32), (0, 0), sigma)
    v = cv2.GaussianBlur(values * region[..., None], (0, 0), sigma)
    return np.where(w[..., None] > 1e-6, v / np.maximum(w, 1e-6)[..., None], 0.0).astype(np.float32)


def blend_seam(image: np.ndarray, painted: np.ndarray, mask: np.ndarray, width: float,
               sigma: float = 1.0) -> np.ndarray:
    """The image with its hole taken from ``painted`` plus the border colour offset, faded over ``width`` px.

    image: (H, W, 3) float [0, 1], the known pixels (hole content ignored); painted: (H, W, 3) float [0, 1],
    whose hole pixels are the new content (the rest ignored); mask: (H, W) bool, True = hole; width: decay
    length of the correction in pixels (0 = plain paste); sigma: the Gaussian radius, in pixels, of the local
    colour means on each side of the border.
    Returns (H, W, 3) float32, equal to ``image`` outside the hole.
    """
    image = np.asarray(image, np.float32)
    painted = np.asarray(painted, np.float32)
    mask = np.asarray(mask, bool)
    if not np.isfinite(width) or width < 0:
        raise ValueError(f"seam blend width must be a number >= 0, got {width!r}")
    if width == 0 or not mask.any() or mask.all():
        return np.where(mask[..., None], painted, image).astype(np.float32)
    known = ~mask
    # at known pixels next to the hole: their local mean colour minus that of the painted pixels beside them
    offset = _smooth_over(image, known, sigma) - _smooth_over(painted, mask, sigma)
    hole = mask.astype(np.uint8)
    distance, labels = cv2.distanceTransformWithLabels(hole, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    label_to_pixel = np.zeros(labels.max() + 1, np.int64)
    label_to_pixel[labels[known]] = np.flatnonzero(known)  # each known pixel is its own label
    carried = offset.reshape(-1, 3)[label_to_pixel[labels]]  # (H, W, 3): the nearest known pixel's offset
    carried = _smooth_over(carried, mask, sigma)  # smooth along the border inside the hole
    weight = np.exp(-np.maximum(distance - 1.0, 0.0) / float(width))[..., None]
    out = np.clip(painted + weight * carried, 0.0, 1.0)
    return np.where(mask[..., None], out, image).astype(np.float32)
