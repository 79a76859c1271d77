"""Per-sample transforms shared by training data: resizing to the model resolution and random flips.

Arrays follow the module-boundary convention: rgb (H, W, 3) uint8 or float [0, 1]; depth (H, W) float32
metres (0 = invalid); masks (H, W) bool.
"""

from __future__ import annotations

import numpy as np
import torch


def resize_rgb(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear (area when shrinking) resize of (H, W, 3) to size=(h, w); dtype kept."""
    import cv2

    h, w = size
    if rgb.shape[:2] == (h, w):
        return rgb
    interp = cv2.INTER_AREA if h < rgb.shape[0] else cv2.INTER_LINEAR
    return cv2.resize(rgb, (w, h), interpolation=interp)


def resize_depth_nearest(depth: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a depth map or mask (no mixing of valid and invalid values)."""
    import cv2

    h, w = size
    if depth.shape[:2] == (h, w):
        return depth
    src = depth.astype(np.uint8) if depth.dtype == bool else depth
    out = cv2.resize(src, (w, h), interpolation=cv2.INTER_NEAREST)
    return out.astype(bool) if depth.dtype == bool else out


def random_hflip(arrays: dict[str, np.ndarray], generator: torch.Generator, p: float = 0.5) -> dict[str, np.ndarray]:
    """Flip every (H, W[, C]) array in the dict left-right together with probability p."""
    if float(torch.rand((), generator=generator)) >= p:
        return arrays
    return {k: np.ascontiguousarray(v[:, ::-1]) if isinstance(v, np.ndarray) and v.ndim >= 2 else v
            for k, v in arrays.items()}
