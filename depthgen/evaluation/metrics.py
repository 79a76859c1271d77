"""Monocular depth metrics as pure functions, chosen by name, and the evaluation protocols that mask them.

Metrics (``METRICS`` registry; each takes 1-D float64 arrays ``pred``, ``gt`` of the valid pixels, metres):

=========  ==========================================  ======
name       definition                                  better
=========  ==========================================  ======
abs_rel    mean(|pred - gt| / gt)             ("REL")  lower
sq_rel     mean((pred - gt)^2 / gt)                    lower
rmse       sqrt(mean((pred - gt)^2))          ("RMS")  lower
rmse_log   sqrt(mean((log pred - log gt)^2))           lower
log10      mean(|log10 pred - log10 gt|)               lower
delta1     fraction with max(pred/gt, gt/pred) < 1.25  higher
delta2     ... < 1.25^2                                higher
delta3     ... < 1.25^3                                higher
=========  ==========================================  ======

Protocol (``PROTOCOLS``; see ``Protocol``): a pixel is scored when it is valid, its ground truth lies strictly
inside ``(min_depth, max_depth)`` and it is inside the crop. Predictions are (optionally median-scaled on those
pixels, then) clipped to ``[min_depth, max_depth]`` — the practice of the Eigen/BTS/Monodepth2 evaluation code.

Aggregation (``aggregate_metrics``): metrics are computed per image and then averaged over images (the standard
practice of the NYU/KITTI literature, Marigold and BTS included), not pooled over all pixels of the dataset.
Images with no scored pixel are left out of the mean and counted.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

MetricFn = Callable[[np.ndarray, np.ndarray], float]


def _as_numpy(x: Any) -> np.ndarray:
    """numpy view of an array or a (CPU/GPU) torch tensor."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def abs_rel(pred: np.ndarray, gt: np.ndarray) -> float:
    return float(np.mean(np.abs(pred - gt) / gt))


def sq_rel(pred: np.ndarray, gt: np.ndarray) -> float:
    return float(np.mean((pred - gt) ** 2 / gt))


def rmse(pred: np.ndarray, gt: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pred - gt) ** 2)))


def rmse_log(pred: np.ndarray, gt: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.log(pred) - np.log(gt)) ** 2)))


def log10(pred: np.ndarray, gt: np.ndarray) -> float:
    return float(np.mean(np.abs(np.log10(pred) - np.log10(gt))))


def _delta(threshold: float) -> MetricFn:
    def delta(pred: np.ndarray, gt: np.ndarray) -> float:
        ratio = np.maximum(pred / gt, gt / pred)
        return float(np.mean(ratio < threshold))

    return delta


METRICS: dict[str, MetricFn] = {
    "abs_rel": abs_rel,
    "sq_rel": sq_rel,
    "rmse": rmse,
    "rmse_log": rmse_log,
    "log10": log10,
    "delta1": _delta(1.25),
    "delta2": _delta(1.25**2),
    "delta3": _delta(1.25**3),
}
# Column titles as the papers print them, and which direction is better.
DISPLAY_NAMES = {"abs_rel": "REL", "sq_rel": "Sq-rel", "rmse": "RMS", "rmse_log": "RMS log",
                 "log10": "log10", "delta1": "δ1", "delta2": "δ2", "delta3": "δ3"}
HIGHER_IS_BETTER = {"delta1", "delta2", "delta3"}
DEFAULT_METRICS: tuple[str, ...] = tuple(METRICS)


def check_metric_names(names: Iterable[str] | None) -> tuple[str, ...]:
    """The requested metric names (all when ``None``); unknown names raise ``ValueError``."""
    if names is None:
        return DEFAULT_METRICS
    names = tuple(names)
    unknown = [n for n in names if n not in METRICS]
    if unknown or not names:
        raise ValueError(f"unknown metric(s) {unknown or names}; choose from {list(METRICS)}")
    return names


# --------------------------------------------------------------------------------------------------- protocols
CROPS = ("eigen", "garg", "none")


@dataclass(frozen=True)
class Protocol:
    """Which pixels are scored: depth caps (metres, exclusive) and a named crop (``eigen``, ``garg``, ``none``)."""

    name: str
    min_depth: float = 1e-3
    max_depth: float = math.inf
    crop: str = "none"

    def __post_init__(self) -> None:
        if self.crop not in CROPS:
            raise ValueError(f"unknown crop {self.crop!r}; choose from {list(CROPS)}")
        if not (self.min_depth > 0 and self.max_depth > self.min_depth):
            raise ValueError(f"protocol {self.name!r} needs 0 < min_depth < max_depth, "
                             f"got {self.min_depth} and {self.max_depth}")

    def replace(self, **changes: Any) -> "Protocol":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {"name": self.name, "min_depth": self.min_depth,
                "max_depth": None if math.isinf(self.max_depth) else self.max_depth, "crop": self.crop}


PROTOCOLS: dict[str, Protocol] = {
    # Eigen et al. crop of the 480x640 NYU frames (the region with valid Kinect projection), caps 1e-3..10 m.
    "nyu": Protocol("nyu", 1e-3, 10.0, "eigen"),
    # Garg et al. crop of KITTI frames, caps 1e-3..80 m.
    "kitti": Protocol("kitti", 1e-3, 80.0, "garg"),
    # No crop; caps given by the caller (default 1e-3 .. inf).
    "none": Protocol("none", 1e-3, math.inf, "none"),
}


def get_protocol(name: str | Protocol, *, crop: str | None = None, min_depth: float | None = None,
                 max_depth: float | None = None) -> Protocol:
    """A registered protocol by name (or a ``Protocol``), with its crop and caps optionally overridden."""
    if isinstance(name, Protocol):
        proto = name
    elif name in PROTOCOLS:
        proto = PROTOCOLS[name]
    else:
        raise ValueError(f"unknown protocol {name!r}; choose from {list(PROTOCOLS)}")
    changes = {k: v for k, v in (("crop", crop), ("min_depth", min_depth), ("max_depth", max_depth))
               if v is not None}
    return proto.replace(**changes) if changes else proto


def crop_mask(shape: tuple[int, int], crop: str) -> np.ndarray:
    """(H, W) bool: True inside the named crop.

    ``eigen``: rows 45:471, cols 41:601 of a 480x640 frame, scaled proportionally (rounded) for other sizes.
    ``garg``: rows 0.40810811 H : 0.99189189 H, cols 0.03594771 W : 0.96405229 W (floored, as in the
    reference code). ``none``: everything.
    """
    h, w = int(shape[0]), int(shape[1])
    mask = np.zeros((h, w), dtype=bool)
    if crop == "none":
        mask[:] = True
    elif crop == "eigen":
        r0, r1 = round(45 * h / 480), round(471 * h / 480)
        c0, c1 = round(41 * w / 640), round(601 * w / 640)
        mask[r0:r1, c0:c1] = True
    elif crop == "garg":
        r0, r1 = int(0.40810811 * h), int(0.99189189 * h)
        c0, c1 = int(0.03594771 * w), int(0.96405229 * w)
        mask[r0:r1, c0:c1] = True
    else:
        raise ValueError(f"unknown crop {crop!r}; choose from {list(CROPS)}")
    return mask


def eval_mask(gt: Any, valid: Any | None, protocol: Protocol) -> np.ndarray:
    """(H, W) bool: scored pixels = valid & finite & min_depth < gt < max_depth & inside the crop."""
    gt = _as_numpy(gt)
    if gt.ndim != 2:
        raise ValueError(f"ground-truth depth must be (H, W), got shape {gt.shape}")
    with np.errstate(invalid="ignore"):
        mask = np.isfinite(gt) & (gt > protocol.min_depth) & (gt < protocol.max_depth)
    if valid is not None:
        valid = _as_numpy(valid).astype(bool)
        if valid.shape != gt.shape:
            raise ValueError(f"valid mask shape {valid.shape} differs from depth shape {gt.shape}")
        mask &= valid
    return mask & crop_mask(gt.shape, protocol.crop)


def median_scale_factor(pred: np.ndarray, gt: np.ndarray) -> float:
    """median(gt) / median(pred) over the given (already masked, 1-D) pixels."""
    med = float(np.median(pred))
    if not med > 0:
        raise ValueError("median scaling needs a positive median prediction on the scored pixels")
    return float(np.median(gt)) / med


def compute_metrics(pred: Any, gt: Any, valid: Any | None = None, protocol: str | Protocol = "none", *,
                    median_scaling: bool = False, metrics: Sequence[str] | None = None) -> dict[str, float]:
    """Metrics of one image.

    Args:
        pred: (H, W) predicted depth, metres (numpy or torch). Non-finite values are clipped like the rest.
        gt: (H, W) ground-truth depth, metres; 0 / NaN mark invalid pixels.
        valid: optional (H, W) bool; False pixels are not scored.
        protocol: a ``PROTOCOLS`` name or a ``Protocol`` (caps and crop).
        median_scaling: scale ``pred`` by median(gt)/median(pred) over the scored pixels first (for
            relative-depth models).
        metrics: names from ``METRICS`` (default: all).
    Returns:
        ``{name: value}`` plus ``n_valid`` (number of scored pixels) and ``scale`` (the median-scaling factor,
        1.0 without it). With no scored pixel every metric is NaN and ``n_valid`` is 0.
    """
    names = check_metric_names(metrics)
    protocol = get_protocol(protocol)
    pred = _as_numpy(pred).astype(np.float64)
    gt = _as_numpy(gt).astype(np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from ground truth shape {gt.shape}")
    mask = eval_mask(gt, valid, protocol)
    n = int(mask.sum())
    if n == 0:
        return {**{name: math.nan for name in names}, "n_valid": 0, "scale": math.nan}
    p, g = pred[mask], gt[mask]
    p = np.nan_to_num(p, nan=protocol.min_depth, posinf=protocol.max_depth, neginf=protocol.min_depth)
    scale = 1.0
    if median_scaling:
        scale = median_scale_factor(p, g)
        p = p * scale
    # Clip to the caps: keeps logs finite and follows the reference evaluation code.
    p = np.clip(p, protocol.min_depth, protocol.max_depth)
    out: dict[str, float] = {name: METRICS[name](p, g) for name in names}
    out["n_valid"] = n
    out["scale"] = scale
    return out


def aggregate_metrics(per_image: Sequence[Mapping[str, float]],
                      metrics: Sequence[str] | None = None) -> dict[str, float]:
    """Mean of per-image metrics over the images that had scored pixels (``n_valid > 0``).

    Returns ``{name: mean}`` plus ``num_images`` (images averaged) and ``num_empty`` (images left out).
    """
    names = check_metric_names(metrics)
    used = [m for m in per_image if m.get("n_valid", 1) > 0]
    out: dict[str, float] = {}
    for name in names:
        values = [float(m[name]) for m in used]
        out[name] = float(np.mean(values)) if values else math.nan
    out["num_images"] = len(used)
    out["num_empty"] = len(per_image) - len(used)
    return out
