"""Pure measures of the super-resolution benchmark (``bench.super_resolution``).

- ``detail_share``: the share of an image's spectral energy above a radial frequency (cycles per image): detail
  that a view upsampled from fewer pixels cannot hold (a 64-px view has none above 32 cycles/image).
- ``edge_alignment``: the share of depth discontinuities that lie within ``tol`` px of an image edge.
- ``psnr``: peak signal-to-noise ratio of images in [0, 1].
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def luma(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) float [0, 1] (or uint8) -> (H, W) float32 luma."""
    a = np.asarray(image)
    a = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
    return a @ LUMA


def detail_share(image: np.ndarray, cutoff: float = 32.0) -> float:
    """Share of the (Hann-windowed, mean-removed) luma power spectrum at radial frequencies above ``cutoff``
    cycles per image, of all the power above 0. The window keeps the image border from adding a false edge."""
    y = luma(image).astype(np.float64)
    h, w = y.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    y = (y - (y * win).sum() / win.sum()) * win
    power = np.abs(np.fft.fft2(y)) ** 2
    fy, fx = np.fft.fftfreq(h) * h, np.fft.fftfreq(w) * w  # cycles per image
    r = np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    total = power[r > 0].sum()
    return float(power[r > cutoff].sum() / total) if total > 0 else 0.0


def image_edges(image: np.ndarray, low: int = 40, high: int = 100) -> np.ndarray:
    """(H, W) bool Canny edges of the luma (thresholds on the 0-255 scale)."""
    import cv2

    return cv2.Canny(np.clip(luma(image) * 255 + 0.5, 0, 255).astype(np.uint8), low, high) > 0


def depth_discontinuities(depth: np.ndarray, ratio: float = 0.05) -> np.ndarray:
    """(H, W) bool: pixels whose depth differs from the right or lower neighbour by more than ``ratio``
    (relative); both pixels of such a pair are marked. Invalid (<= 0) depth is never a discontinuity."""
    d = np.asarray(depth, np.float64)
    valid = d > 0
    ld = np.log(np.where(valid, d, 1.0))
    jump = np.log1p(ratio)
    out = np.zeros(d.shape, bool)
    dx = (np.abs(ld[:, 1:] - ld[:, :-1]) > jump) & valid[:, 1:] & valid[:, :-1]
    dy = (np.abs(ld[1:] - ld[:-1]) > jump) & valid[1:] & valid[:-1]
    out[:, 1:] |= dx
    out[:, :-1] |= dx
    out[1:] |= dy
    out[:-1] |= dy
    return out


def edge_alignment(depth: np.ndarray, edges: np.ndarray, tol: int = 1, ratio: float = 0.05) -> tuple[float, int]:
    """(share, count): of the depth discontinuities of ``depth`` (``depth_discontinuities``), the share within
    ``tol`` px (chessboard distance) of an ``edges`` pixel, and how many discontinuity pixels there are."""
    import cv2

    disc = depth_discontinuities(depth, ratio)
    n = int(disc.sum())
    if n == 0:
        return float("nan"), 0
    near = cv2.dilate(np.asarray(edges, np.uint8), np.ones((2 * tol + 1, 2 * tol + 1), np.uint8)) > 0
    return float((disc & near).sum() / n), n


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (dB) of two (H, W, 3) images in [0, 1]."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)
