"""Depth at the view's resolution: joint bilateral upsampling (Kopf et al. 2007) of a low-resolution depth map
with the high-resolution image as the guide, so that depth edges land on image edges.

Each output pixel p is a weighted mean of the low-resolution depths q in a (2 radius + 1)^2 window around
it: weight = exp(-|p - q|^2 / 2 sigma_s^2) (distance in low-resolution pixels) x exp(-|I(p) - I_lr(q)|^2 /
2 sigma_r^2) (colour distance between the guide at p and the low-resolution image at q, RGB in [0, 1]) x
[q valid]. OpenCV's ``ximgproc.jointBilateralFilter`` needs opencv-contrib, which the project does not
install; this is numpy only (a few ms at 256 x 256).
"""

from __future__ import annotations

import numpy as np


def area_downsample(image: np.ndarray, factor: int) -> np.ndarray:
    """(H, W, ...) -> (H / factor, W / factor, ...): the mean of each block (H, W multiples of ``factor``)."""
    a = np.asarray(image, np.float32)
    h, w = a.shape[:2]
    if h % factor or w % factor:
        raise ValueError(f"size {w}x{h} is not a multiple of the downsampling factor {factor}")
    return a.reshape(h // factor, factor, w // factor, factor, *a.shape[2:]).mean(axis=(1, 3))


def lowres_coords(n_hr: int, n_lr: int) -> np.ndarray:
    """(n_hr,) float64: each high-resolution pixel centre in low-resolution pixel coordinates."""
    return (np.arange(n_hr) + 0.5) * (n_lr / n_hr) - 0.5


def joint_bilateral_upsample(depth_lr: np.ndarray, guide: np.ndarray, guide_lr: np.ndarray | None = None, *,
                             radius: int = 2, sigma_spatial: float = 1.0, sigma_range: float = 0.1,
                             valid_lr: np.ndarray | None = None) -> np.ndarray:
    """Upsample depth_lr (h, w) float32 metres (0 = invalid) to the guide's size.

    guide: (H, W, 3) float [0, 1] high-resolution image; guide_lr: (h, w, 3) the image the depth belongs to
    (default: the guide averaged over blocks, which needs H, W multiples of h, w); valid_lr: (h, w) bool
    (default depth_lr > 0). radius: window half-size in low-resolution pixels. Returns (H, W) float32,
    0 where no valid depth lies in the window. Where no neighbour has the pixel's colour (weights below 1e-8
    of the spatial ones) the spatial weights alone decide.
    """
    d = np.asarray(depth_lr, np.float32)
    g = np.asarray(guide, np.float32)
    h, w = d.shape
    H, W = g.shape[:2]
    if g.ndim != 3 or g.shape[2] != 3:
        raise ValueError(f"the guide must be an (H, W, 3) image, got shape {g.shape}")
    if guide_lr is None:
        if H % h or W % w or H // h != W // w:
            raise ValueError(f"guide {W}x{H} is not a whole multiple of the depth {w}x{h}; pass guide_lr")
        guide_lr = area_downsample(g, H // h)
    gl = np.asarray(guide_lr, np.float32)
    if gl.shape != (h, w, 3):
        raise ValueError(f"guide_lr must be ({h}, {w}, 3) like the depth, got {gl.shape}")
    valid = (d > 0) & np.isfinite(d) if valid_lr is None else np.asarray(valid_lr, bool)
    ys, xs = lowres_coords(H, h), lowres_coords(W, w)
    y0, x0 = np.floor(ys).astype(np.int64), np.floor(xs).astype(np.int64)
    num, den = np.zeros((H, W), np.float64), np.zeros((H, W), np.float64)
    num_s, den_s = np.zeros((H, W), np.float64), np.zeros((H, W), np.float64)  # spatial weights only
    inv_s, inv_r = 0.5 / sigma_spatial ** 2, 0.5 / sigma_range ** 2
    for dy in range(-radius + 1, radius + 1):  # 2 radius taps per axis, centred between floor and floor + 1
        qy = y0 + dy
        iny = (qy >= 0) & (qy < h)
        qyc = np.clip(qy, 0, h - 1)
        wy = np.exp(-((ys - qy) ** 2) * inv_s) * iny  # (H,)
        for dx in range(-radius + 1, radius + 1):
            qx = x0 + dx
            inx = (qx >= 0) & (qx < w)
            qxc = np.clip(qx, 0, w - 1)
            wx = np.exp(-((xs - qx) ** 2) * inv_s) * inx  # (W,)
            colour = gl[qyc][:, qxc]  # (H, W, 3) low-resolution colour of each pixel's neighbour
            dist2 = ((g - colour) ** 2).sum(-1)
            ws = wy[:, None] * wx[None, :] * valid[qyc][:, qxc]
            wgt = ws * np.exp(-dist2 * inv_r)
            dq = d[qyc][:, qxc]
            num += wgt * dq
            den += wgt
            num_s += ws * dq
            den_s += ws
    # a colour seen in no neighbour (a thin detail the low-resolution image lost) falls back to spatial weights
    ok = den > 1e-8 * np.maximum(den_s, 1e-300)
    out = np.where(ok, num / np.maximum(den, 1e-300), num_s / np.maximum(den_s, 1e-300))
    return np.where(den_s > 1e-12, out, 0.0).astype(np.float32)


def bilinear_upsample(depth_lr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Plain bilinear upsampling of depth (h, w) to size (H, W), pixel centres aligned (the baseline)."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(depth_lr, np.float32))[None, None]
    return F.interpolate(t, size=size, mode="bilinear", align_corners=False)[0, 0].numpy()
