"""Aligning a predicted depth map to known depth: least-squares scale and shift, and median scaling.

Used by the text-to-3D "alignment baseline" (predict full depth, then fit it to the depth rendered from the
scene so far) and by evaluation of relative-depth models. Closed form: with ``x`` the prediction and ``y`` the
target on the known pixels (weights ``w``), ``scale = cov_w(x, y) / var_w(x)``, ``shift = mean_w(y) - scale *
mean_w(x)``. In ``space="disparity"`` the fit is done on inverse depth (as MiDaS-style evaluation does) and the
result is turned back into depth. ``robust=True`` re-weights with Huber weights (iteratively reweighted least
squares), so a minority of wrong known pixels does not pull the fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SPACES = ("depth", "disparity")


def _as_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _weighted_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least squares of y ~ scale * x + shift (float64, centred for stability)."""
    wsum = w.sum()
    mx, my = (w * x).sum() / wsum, (w * y).sum() / wsum
    dx, dy = x - mx, y - my
    var = (w * dx * dx).sum() / wsum
    if not var > 1e-12 * max(1.0, mx * mx):
        # Constant prediction: any scale fits equally; keep scale 1 and match the mean.
        return 1.0, float(my - mx)
    scale = (w * dx * dy).sum() / wsum / var
    return float(scale), float(my - scale * mx)


def _huber_weights(residual: np.ndarray, k: float = 1.345) -> np.ndarray:
    """Huber IRLS weights with the residual scale from the median absolute deviation."""
    sigma = 1.4826 * np.median(np.abs(residual - np.median(residual)))
    if not sigma > 0:
        return np.ones_like(residual)
    r = np.abs(residual) / (k * sigma)
    return np.where(r <= 1.0, 1.0, 1.0 / np.maximum(r, 1e-12))


def fit_scale_shift(x: np.ndarray, y: np.ndarray, *, robust: bool = False,
                    iterations: int = 10) -> tuple[float, float]:
    """Scale and shift minimising sum (scale * x + shift - y)^2 over 1-D arrays (Huber IRLS if ``robust``)."""
    x = np.asarray(x, np.float64).ravel()
    y = np.asarray(y, np.float64).ravel()
    if x.size < 2:
        raise ValueError(f"need at least 2 known pixels to fit a scale and shift, got {x.size}")
    w = np.ones_like(x)
    scale, shift = _weighted_fit(x, y, w)
    if robust:
        for _ in range(iterations):
            w = _huber_weights(scale * x + shift - y)
            new = _weighted_fit(x, y, w)
            done = abs(new[0] - scale) <= 1e-10 * max(1.0, abs(scale)) and abs(new[1] - shift) <= 1e-10 * max(
                1.0, abs(shift))
            scale, shift = new
            if done:
                break
    return scale, shift


def _known_mask(pred: np.ndarray, target: np.ndarray, mask: Any | None, positive: bool) -> np.ndarray:
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from target shape {target.shape}")
    known = np.isfinite(pred) & np.isfinite(target) & (target > 0)
    if positive:
        known &= pred > 0
    if mask is not None:
        mask = _as_numpy(mask).astype(bool)
        if mask.shape != target.shape:
            raise ValueError(f"mask shape {mask.shape} differs from target shape {target.shape}")
        known &= mask
    return known


def align_scale_shift(pred: Any, target: Any, mask: Any | None = None, *, space: str = "depth",
                      pred_is_disparity: bool = False, robust: bool = False,
                      max_depth: float | None = None) -> tuple[np.ndarray, float, float]:
    """Fit ``pred`` to ``target`` on known pixels with one scale and one shift.

    Args:
        pred: (H, W) predicted depth, metres or any affine-invariant unit (numpy or torch).
        target: (H, W) known depth, metres; pixels <= 0 or non-finite are never used.
        mask: optional (H, W) bool of the pixels to fit on (further restricted to valid target pixels).
        space: ``"depth"`` fits ``target ~ s * pred + t``; ``"disparity"`` fits ``1/target ~ s * x + t`` with
            ``x = 1/pred`` (or ``x = pred`` when ``pred_is_disparity``) and returns ``1 / (s * x + t)``.
        robust: Huber-weighted iteratively reweighted least squares instead of plain least squares.
        max_depth: disparity space only: the fitted disparity is floored at ``1/max_depth`` so the returned
            depth stays finite (default 10 x the largest known target depth).
    Returns:
        ``(aligned, scale, shift)``: aligned (H, W) float32 depth in the target's unit over the whole image;
        scale and shift as floats, in the space of the fit.
    """
    if space not in SPACES:
        raise ValueError(f"space must be one of {SPACES}, got {space!r}")
    pred = _as_numpy(pred).astype(np.float64)
    target = _as_numpy(target).astype(np.float64)
    if pred.ndim != 2:
        raise ValueError(f"prediction must be (H, W), got shape {pred.shape}")
    disparity = space == "disparity"
    known = _known_mask(pred, target, mask, positive=disparity)
    if disparity:
        with np.errstate(divide="ignore", invalid="ignore"):
            x_all = pred if pred_is_disparity else 1.0 / pred
        scale, shift = fit_scale_shift(x_all[known], 1.0 / target[known], robust=robust)
        cap = float(max_depth) if max_depth is not None else 10.0 * float(target[known].max())
        with np.errstate(divide="ignore", invalid="ignore"):
            disp = np.maximum(scale * x_all + shift, 1.0 / cap)
            aligned = 1.0 / disp
    else:
        if pred_is_disparity:
            raise ValueError("pred_is_disparity needs space='disparity'")
        scale, shift = fit_scale_shift(pred[known], target[known], robust=robust)
        aligned = scale * pred + shift
    return aligned.astype(np.float32), scale, shift


def median_scale(pred: Any, target: Any, mask: Any | None = None) -> tuple[np.ndarray, float]:
    """Scale ``pred`` by median(target) / median(pred) over known pixels.

    Returns ``(scaled (H, W) float32, scale)``. Raises ``ValueError`` with no known pixel or a non-positive
    median prediction.
    """
    pred = _as_numpy(pred).astype(np.float64)
    target = _as_numpy(target).astype(np.float64)
    known = _known_mask(pred, target, mask, positive=False)
    if not known.any():
        raise ValueError("median scaling needs at least one known pixel with positive target depth")
    med = float(np.median(pred[known]))
    if not med > 0:
        raise ValueError("median scaling needs a positive median prediction on the known pixels")
    scale = float(np.median(target[known])) / med
    return (pred * scale).astype(np.float32), scale
