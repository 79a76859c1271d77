"""Depth parametrisation: metric depth (metres) <-> the model's [-1, 1] space.

``log`` (default; one model for indoor and outdoor, equal relative precision at every range)::

    x = 2 * (log d - log d_min) / (log d_max - log d_min) - 1

``linear`` (the paper's per-dataset choice, absolute precision)::

    x = 2 * d / d_max - 1

Both are clipped to [-1, 1], so depths outside [d_min, d_max] (log) or [0, d_max] (linear) saturate.
Invalid depth (<= 0, NaN) has no image: callers mask it (``depth_valid``) and infill it beforehand.
Works on numpy arrays and torch tensors alike.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
import torch

A = TypeVar("A", np.ndarray, torch.Tensor)


def _check(param: str, d_min: float, d_max: float) -> None:
    if param not in ("log", "linear"):
        raise ValueError(f"depth parametrisation must be 'log' or 'linear', got {param!r}")
    if not 0 < d_min < d_max:
        raise ValueError(f"need 0 < d_min < d_max, got d_min={d_min}, d_max={d_max}")


def depth_to_model(depth: A, param: str = "log", d_min: float = 0.1, d_max: float = 80.0) -> A:
    """Metric depth (any shape, metres, > 0 where valid) -> model values in [-1, 1], same shape/type."""
    _check(param, d_min, d_max)
    lib = torch if isinstance(depth, torch.Tensor) else np
    if param == "log":
        d = lib.clip(depth, d_min, d_max)
        x = 2.0 * (lib.log(d) - math.log(d_min)) / (math.log(d_max) - math.log(d_min)) - 1.0
    else:
        x = 2.0 * depth / d_max - 1.0
    return lib.clip(x, -1.0, 1.0)


def model_to_depth(x: A, param: str = "log", d_min: float = 0.1, d_max: float = 80.0) -> A:
    """Model values (clipped to [-1, 1]) -> metric depth in metres, same shape/type."""
    _check(param, d_min, d_max)
    lib = torch if isinstance(x, torch.Tensor) else np
    x = lib.clip(x, -1.0, 1.0)
    if param == "log":
        return lib.exp((x + 1.0) / 2.0 * (math.log(d_max) - math.log(d_min)) + math.log(d_min))
    return (x + 1.0) / 2.0 * d_max


def depth_valid(depth: A) -> A:
    """Bool mask of pixels holding a usable depth: finite and > 0."""
    if isinstance(depth, torch.Tensor):
        return torch.isfinite(depth) & (depth > 0)
    return np.isfinite(depth) & (depth > 0)
