"""Combine several depth samples into one estimate and a per-pixel uncertainty.

DepthGen draws k samples per image; the per-pixel median is robust to the odd sample that lands on the
wrong depth mode, the mean is smoother. The standard deviation across samples is the uncertainty.
"""

from __future__ import annotations

import torch


def aggregate(samples: torch.Tensor, method: str = "median") -> tuple[torch.Tensor, torch.Tensor]:
    """samples (k, ...) float -> (estimate (...), std (...)), both float32.

    ``median`` is the interpolated median (mean of the two middle values for even k); std is the
    population standard deviation (0 for k = 1).
    """
    if samples.ndim < 1 or samples.shape[0] < 1:
        raise ValueError("need at least one sample to aggregate")
    s = samples.float()
    if method == "median":
        est = torch.quantile(s, 0.5, dim=0) if s.shape[0] > 1 else s[0]
    elif method == "mean":
        est = s.mean(0)
    else:
        raise ValueError(f"aggregation must be 'median' or 'mean', got {method!r}")
    std = s.std(0, unbiased=False) if s.shape[0] > 1 else torch.zeros_like(s[0])
    return est, std
