"""Seam blending of painted holes: carry the colour mismatch at the hole's border into the new region.

The sampler keeps the known region on its own noisy trajectory, but its last prediction of the known pixels
can still differ from them (the model wanted another wall colour there); pasting the painted hole beside the
exact known pixels then leaves a visible step along the border. ``blend_seam`` measures that mismatch on the
known side of the border (known image minus the model's prediction there, smoothed over the known pixels),
carries it into the hole from each hole pixel's nearest known pixel, and adds it to the painted pixels with a weight that decays with the distance from the
border (``exp(-d / width)``): the border becomes continuous, content deep in the hole keeps its colours. A
membrane correction in the spirit of gradient-domain cloning (Farbman et al. 2009), local and cheap.
"""

from __future__ import annotations

import cv2
import numpy as np


def _smooth_known(values: np.ndarray, known: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian average (H, W, C) of ``values`` over the ``known`` (H, W) bool pixels only (normalised
    convolution); 0 where no known pixel is near."""
    w = cv2.GaussianBlur(known.astype(np.float32), (0, 0), sigma)
    v = cv2.GaussianBlur(values * known[..., None], (0, 0), sigma)
    return np.where(w[..., None] > 1e-6, v / np.maximum(w, 1e-6)[..., None], 0.0).astype(np.float32)


def blend_seam(image: np.ndarray, predicted: np.ndarray, mask: np.ndarray, width: float,
               sigma: float = 1.0) -> np.ndarray:
    """The image with its hole taken from ``predicted`` plus the border mismatch, faded over ``width`` px.

    image: (H, W, 3) float [0, 1], the known pixels (hole content ignored); predicted: (H, W, 3) float [0, 1],
    the model's whole output (hole and known region); mask: (H, W) bool, True = hole; width: decay length of
    the correction in pixels (0 = plain paste); sigma: smoothing of the mismatch along the border, in pixels.
    Returns (H, W, 3) float32, equal to ``image`` outside the hole.
    """
    image = np.asarray(image, np.float32)
    predicted = np.asarray(predicted, np.float32)
    mask = np.asarray(mask, bool)
    if not np.isfinite(width) or width < 0:
        raise ValueError(f"seam blend width must be a number >= 0, got {width!r}")
    if width == 0 or not mask.any() or mask.all():
        return np.where(mask[..., None], predicted, image).astype(np.float32)
    known = ~mask
    mismatch = _smooth_known(image - predicted, known, sigma)  # (H, W, 3), meaningful on the known side
    hole = mask.astype(np.uint8)
    distance, labels = cv2.distanceTransformWithLabels(hole, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    label_to_pixel = np.zeros(labels.max() + 1, np.int64)
    label_to_pixel[labels[known]] = np.flatnonzero(known)  # each known pixel is its own label
    carried = mismatch.reshape(-1, 3)[label_to_pixel[labels]]  # (H, W, 3): the nearest known pixel's mismatch
    carried = _smooth_known(carried, mask, sigma)  # smooth along the border inside the hole
    weight = np.exp(-np.maximum(distance - 1.0, 0.0) / float(width))[..., None]
    painted = np.clip(predicted + weight * carried, 0.0, 1.0)
    return np.where(mask[..., None], painted, image).astype(np.float32)
