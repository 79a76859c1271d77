"""Pure metrics of painted text-to-3D views (bench.outpainting): detail and seam visibility.

Images are (H, W, 3) float in [0, 1]; masks (H, W) bool with True = painted (the view's hole).
"""

from __future__ import annotations

import cv2
import numpy as np

MEASURE_SIZE = 64  # px on the shorter side: the base models' resolution, where the issue's figures are defined


def at_measure_size(image: np.ndarray, mask: np.ndarray | None = None,
                    size: int = MEASURE_SIZE) -> tuple[np.ndarray, np.ndarray | None]:
    """A view (H, W, 3) float [0, 1] and its hole mask (H, W) bool brought to ``size`` px on the shorter side
    (area averaging; a pixel is a hole where most of it was), so that views of any resolution (the 256-px
    cascade, 64-px previews) are scored on one grid. Views already at that size are returned as they are."""
    h, w = image.shape[:2]
    if min(h, w) == size:
        return np.asarray(image, np.float32), mask
    out_w, out_h = (size, round(size * h / w)) if w <= h else (round(size * w / h), size)
    small = cv2.resize(np.asarray(image, np.float32), (out_w, out_h), interpolation=cv2.INTER_AREA)
    if mask is None:
        return small, None
    share = cv2.resize(np.asarray(mask, np.float32), (out_w, out_h), interpolation=cv2.INTER_AREA)
    return small, share > 0.5


def grey(image: np.ndarray) -> np.ndarray:
    """(H, W) float32 luma (Rec. 601)."""
    a = np.asarray(image, np.float32)
    return a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114


def detail(image: np.ndarray) -> float:
    """Mean |Laplacian| (4-neighbour) of the grey image: 0 for a flat view."""
    g = np.pad(grey(image), 1, mode="edge")
    lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1]
    return float(np.abs(lap).mean())


def _pairs(image: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Colour differences (mean |dRGB|) of horizontally and vertically adjacent pixel pairs, grouped by
    where the pair lies: ``border`` (one painted, one known), ``known`` (both known), ``new`` (both painted)."""
    a = np.asarray(image, np.float32)
    m = np.asarray(mask, bool)
    diffs, a_in, b_in = [], [], []
    for axis in (0, 1):
        lo = [slice(None)] * 2
        hi = [slice(None)] * 2
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        diffs.append(np.abs(a[tuple(lo)] - a[tuple(hi)]).mean(-1).ravel())
        a_in.append(m[tuple(lo)].ravel())
        b_in.append(m[tuple(hi)].ravel())
    d, p, q = np.concatenate(diffs), np.concatenate(a_in), np.concatenate(b_in)
    return {"border": d[p != q], "known": d[~p & ~q], "new": d[p & q]}


def seam_ratio(image: np.ndarray, mask: np.ndarray) -> float | None:
    """The colour step across the hole's border over the mean step inside the known and the painted
    regions (each region's mean, then their mean). About 1 where the border is invisible; None when the
    view has no border or no inside pairs."""
    groups = _pairs(image, mask)
    if not groups["border"].size or not groups["known"].size or not groups["new"].size:
        return None
    inside = 0.5 * (groups["known"].mean() + groups["new"].mean())
    return float(groups["border"].mean() / max(inside, 1e-6))


def colour_overlap(a: np.ndarray, b: np.ndarray, bins: int = 8) -> float:
    """Histogram intersection (0..1) of two images' joint RGB histograms with ``bins`` per channel."""
    def hist(x: np.ndarray) -> np.ndarray:
        q = np.clip((np.asarray(x, np.float32) * bins).astype(int), 0, bins - 1).reshape(-1, 3)
        h = np.bincount(q[:, 0] * bins * bins + q[:, 1] * bins + q[:, 2], minlength=bins ** 3).astype(np.float64)
        return h / h.sum()

    return float(np.minimum(hist(a), hist(b)).sum())
