"""Hole shapes of the text-to-3D trajectories, for training the inpainting model (True = pixel to paint).

Built from ``depthgen.data.masks``; every draw takes a ``torch.Generator``.

- ``turn``: an orbit or look-around step: the left or right 30-85% of the view is unseen (45 deg steps with
  a 60 deg field of view leave ~75%), with the disocclusion holes of the motion.
- ``ring``: walking forward: a thin, uneven border ring (what sway and rise bring into view) and the
  disocclusions behind near objects.
- ``frame``: zooming out: a frame of 10-30% of the view on every side.
- ``scatter``: a clean-up view: scattered disocclusion holes, strokes and small boxes.
"""

from __future__ import annotations

import numpy as np
import torch

from depthgen.data.masks import (box_mask, brush_mask, disocclusion_mask, synthetic_depth, turn_mask)

MASK_KINDS = ("turn", "ring", "frame", "scatter")


def _u(g: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g))


def _border(h: int, w: int, g: torch.Generator, lo: float, hi: float) -> np.ndarray:
    """(h, w) bool: a border whose four sides are each ``lo``-``hi`` of the side length wide."""
    m = np.zeros((h, w), bool)
    top, bottom = int(round(_u(g, lo, hi) * h)), int(round(_u(g, lo, hi) * h))
    left, right = int(round(_u(g, lo, hi) * w)), int(round(_u(g, lo, hi) * w))
    m[:top], m[h - bottom:], m[:, :left], m[:, w - right:] = True, True, True, True
    return m


def trajectory_mask(kind: str, h: int, w: int, generator: torch.Generator) -> np.ndarray:
    """One (h, w) bool hole of ``kind`` (see the module docstring); never empty, never the whole view."""
    g = generator
    if kind == "turn":
        m = turn_mask(h, w, g, depth=synthetic_depth(h, w, g))
    elif kind == "ring":
        m = _border(h, w, g, 0.0, 0.12) | disocclusion_mask(synthetic_depth(h, w, g), g)
    elif kind == "frame":
        m = _border(h, w, g, 0.10, 0.30)
    elif kind == "scatter":
        m = disocclusion_mask(synthetic_depth(h, w, g), g) | brush_mask(h, w, g, max_strokes=2)
        if float(torch.rand((), generator=g)) < 0.5:
            m |= box_mask(h, w, g, max_boxes=2)
    else:
        raise ValueError(f"unknown mask kind {kind!r}; use one of {', '.join(MASK_KINDS)}")
    if not m.any():
        m[h // 3: 2 * h // 3, w // 3: 2 * w // 3] = True
    if m.all():
        m[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = False
    return m


def draw_masks(n: int, h: int, w: int, kinds: tuple[str, ...], weights: tuple[float, ...],
               generator: torch.Generator) -> torch.Tensor:
    """(n, 1, h, w) float32 masks (1 = hole), each of a kind drawn with ``weights``."""
    p = torch.tensor(weights, dtype=torch.float64)
    picks = torch.multinomial(p / p.sum(), n, replacement=True, generator=generator).tolist()
    masks = [trajectory_mask(kinds[k], h, w, generator) for k in picks]
    return torch.from_numpy(np.stack(masks)).float()[:, None]
