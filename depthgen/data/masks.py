"""Random masks for inpainting and uncropping (True = pixel to fill). Every draw takes a torch.Generator.

- ``brush_mask``: free-form brush strokes (random walks drawn with thick lines), as in Palette.
- ``box_mask``: one to three axis-aligned rectangles.
- ``uncrop_mask``: one side (or all borders) of the image.
- ``disocclusion_mask``: the holes that open when the camera moves: pixels of a new view that no source
  pixel lands on after forward-warping the depth map by a small random translation/rotation. These are
  the hole shapes text3d's inpainter sees when it renders a scene from a new pose; they are used as masks
  on the source image (shape statistics, not exact correspondence, is what pretraining needs).
- ``random_disocclusion_mask``: the same from a cheap synthetic depth map (a background plane plus a few
  fronto-parallel boxes), for RGB-only data without depth.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from depthgen.models.camera import rotation_ypr


def _u(g: torch.Generator, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g))


def _i(g: torch.Generator, lo: int, hi: int) -> int:
    """Uniform integer in [lo, hi] inclusive."""
    return int(torch.randint(lo, hi + 1, (), generator=g))


def brush_mask(h: int, w: int, generator: torch.Generator, max_strokes: int = 4) -> np.ndarray:
    """(h, w) bool free-form strokes covering roughly 5-40% of the image."""
    import cv2

    m = np.zeros((h, w), np.uint8)
    s = min(h, w)
    for _ in range(_i(generator, 1, max_strokes)):
        x, y = _u(generator, 0, w - 1), _u(generator, 0, h - 1)
        width = max(1, int(_u(generator, 0.04, 0.12) * s))
        angle = _u(generator, 0, 2 * math.pi)
        for _ in range(_i(generator, 2, 8)):
            angle += _u(generator, -1.2, 1.2)
            length = _u(generator, 0.1, 0.35) * s
            nx = float(np.clip(x + length * math.cos(angle), 0, w - 1))
            ny = float(np.clip(y + length * math.sin(angle), 0, h - 1))
            cv2.line(m, (int(x), int(y)), (int(nx), int(ny)), 1, width)
            cv2.circle(m, (int(nx), int(ny)), width // 2, 1, -1)
            x, y = nx, ny
    return m.astype(bool)


def box_mask(h: int, w: int, generator: torch.Generator, max_boxes: int = 3) -> np.ndarray:
    """(h, w) bool union of 1..max_boxes rectangles, each 10-50% of the side."""
    m = np.zeros((h, w), bool)
    for _ in range(_i(generator, 1, max_boxes)):
        bh, bw = max(1, int(_u(generator, 0.1, 0.5) * h)), max(1, int(_u(generator, 0.1, 0.5) * w))
        y, x = _i(generator, 0, h - bh), _i(generator, 0, w - bw)
        m[y:y + bh, x:x + bw] = True
    return m


def uncrop_mask(h: int, w: int, generator: torch.Generator) -> np.ndarray:
    """(h, w) bool: one side (25-50% of the image) or a border all around (12-25% each side)."""
    m = np.zeros((h, w), bool)
    side = _i(generator, 0, 4)
    frac = _u(generator, 0.25, 0.5)
    if side == 0:
        m[:, : int(frac * w)] = True
    elif side == 1:
        m[:, w - int(frac * w):] = True
    elif side == 2:
        m[: int(frac * h)] = True
    elif side == 3:
        m[h - int(frac * h):] = True
    else:
        by, bx = max(1, int(frac / 2 * h)), max(1, int(frac / 2 * w))
        m[:] = True
        m[by:h - by, bx:w - bx] = False
    return m


def default_intrinsics(h: int, w: int, fov_deg: float = 60.0) -> np.ndarray:
    """(3, 3) float64 pinhole K with the given horizontal field of view and a centred principal point."""
    f = 0.5 * w / math.tan(math.radians(fov_deg) / 2)
    return np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]], np.float64)


def warp_holes(depth: np.ndarray, K: np.ndarray, R: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of the moved camera that no source pixel lands on.

    depth (H, W) float metres (<= 0 invalid); K (3, 3); R (3, 3), t (3,): the motion X' = R X + t applied
    to source-camera points (OpenCV frame). Each point splats to the 2x2 pixels around its projection,
    so pure magnification does not leave one-pixel cracks.
    """
    h, w = depth.shape
    v, u = np.mgrid[0:h, 0:w]
    ok = np.isfinite(depth) & (depth > 0)
    pix = np.stack([u[ok], v[ok], np.ones(ok.sum())], 0).astype(np.float64)  # (3, n)
    pts = np.linalg.inv(K) @ pix * depth[ok][None].astype(np.float64)  # (3, n) metres
    pts = R @ pts + t[:, None]
    front = pts[2] > 1e-6
    proj = K @ pts[:, front]
    x, y = proj[0] / proj[2], proj[1] / proj[2]
    hit = np.zeros((h, w), bool)
    for dx in (0, 1):
        for dy in (0, 1):
            xi, yi = np.floor(x).astype(np.int64) + dx, np.floor(y).astype(np.int64) + dy
            inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            hit[yi[inside], xi[inside]] = True
    return ~hit


def disocclusion_mask(depth: np.ndarray, generator: torch.Generator, K: np.ndarray | None = None,
                      max_translation: float = 0.15, max_rotation_deg: float = 3.0) -> np.ndarray:
    """(H, W) bool holes after a random small camera motion.

    Translation is drawn in a ball of radius ``max_translation * median depth`` (scale-free); rotation
    angles uniform in +-``max_rotation_deg``. Returns an all-False mask only if the depth has no valid
    pixel; callers fall back to another mask kind when the mask is empty.
    """
    h, w = depth.shape
    K = default_intrinsics(h, w) if K is None else np.asarray(K, np.float64)
    valid = np.isfinite(depth) & (depth > 0)
    if not valid.any():
        return np.zeros((h, w), bool)
    scale = float(np.median(depth[valid]))
    # Mostly sideways / vertical motion (parallax opens holes beside near objects); forward/back less.
    direction = torch.randn(3, generator=generator).numpy().astype(np.float64) * np.array([1.0, 0.6, 0.4])
    direction /= max(np.linalg.norm(direction), 1e-9)
    t = direction * _u(generator, 0.3, 1.0) * max_translation * scale
    a = math.radians(max_rotation_deg)
    R = rotation_ypr(_u(generator, -a, a), _u(generator, -a, a), _u(generator, -a / 2, a / 2))
    return warp_holes(depth, K, R, t)


def synthetic_depth(h: int, w: int, generator: torch.Generator) -> np.ndarray:
    """(h, w) float32 metres: a tilted background plane with 1-4 nearer boxes (for cheap disocclusions)."""
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    d = _u(generator, 3.0, 8.0) + _u(generator, -2.0, 2.0) * (u / w - 0.5) + _u(generator, 0.0, 3.0) * (0.5 - v / h)
    d = np.maximum(d, 1.0).astype(np.float32)
    for _ in range(_i(generator, 1, 4)):
        bh, bw = int(_u(generator, 0.15, 0.5) * h), int(_u(generator, 0.15, 0.5) * w)
        y, x = _i(generator, 0, h - max(bh, 1)), _i(generator, 0, w - max(bw, 1))
        d[y:y + bh, x:x + bw] = _u(generator, 0.5, 2.5)
    return d


def random_disocclusion_mask(h: int, w: int, generator: torch.Generator) -> np.ndarray:
    """(h, w) bool disocclusion holes of a synthetic scene (no depth needed)."""
    return disocclusion_mask(synthetic_depth(h, w, generator), generator)


def turn_mask(h: int, w: int, generator: torch.Generator, depth: np.ndarray | None = None,
              K: np.ndarray | None = None) -> np.ndarray:
    """(h, w) bool: what a camera turn leaves unseen: the left or right 30-85% of the image (an orbit step of
    45 deg with a 60 deg field of view leaves ~75%), joined with the disocclusion holes of a small motion."""
    m = np.zeros((h, w), bool)
    cut = int(round(_u(generator, 0.30, 0.85) * w))
    if _i(generator, 0, 1) == 0:
        m[:, :cut] = True
    else:
        m[:, w - cut:] = True
    if depth is not None and (np.asarray(depth) > 0).any():
        m |= disocclusion_mask(np.asarray(depth, np.float32), generator, K)
    return m


def sample_mask(kind: str, h: int, w: int, generator: torch.Generator, depth: np.ndarray | None = None,
                K: np.ndarray | None = None) -> np.ndarray:
    """One mask of ``kind`` (brush | box | disocclusion | uncrop | turn); never empty, never full."""
    if kind == "brush":
        m = brush_mask(h, w, generator)
    elif kind == "box":
        m = box_mask(h, w, generator)
    elif kind == "uncrop":
        m = uncrop_mask(h, w, generator)
    elif kind == "turn":
        m = turn_mask(h, w, generator, depth, K)
    elif kind == "disocclusion":
        if depth is not None and (np.asarray(depth) > 0).any():
            m = disocclusion_mask(np.asarray(depth, np.float32), generator, K)
        else:
            m = random_disocclusion_mask(h, w, generator)
        # Small motions can open almost nothing; make the hole at least visible to the loss.
        if m.mean() < 0.02:
            m = m | box_mask(h, w, generator, max_boxes=1)
    else:
        raise ValueError(f"unknown mask kind {kind!r}; use brush, box, disocclusion, uncrop or turn")
    if not m.any():
        m = box_mask(h, w, generator, max_boxes=1)
    if m.all():
        m[h // 2:, :] = False
    return m
