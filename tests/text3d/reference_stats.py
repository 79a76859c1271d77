"""Summary statistics of the default run and the shipped pipelines, compared with stored references within
tolerances (tests/text3d/test_default_scene_reference.py; the references live in
tests/text3d/data/default_scene_reference.json)."""

from __future__ import annotations

import numpy as np


def image_stats(image: np.ndarray) -> dict[str, float]:
    """Per-channel mean and the overall std of an (H, W, 3) [0, 1] image."""
    a = np.asarray(image, np.float64)
    return {"mean_r": a[..., 0].mean(), "mean_g": a[..., 1].mean(), "mean_b": a[..., 2].mean(), "std": a.std()}


def depth_stats(depth: np.ndarray) -> dict[str, float]:
    """The valid fraction and the 5th, 50th and 95th percentiles (metres) of the valid (> 0) pixels."""
    d = np.asarray(depth, np.float64)
    valid = d[d > 0]
    p5, p50, p95 = np.percentile(valid, [5, 50, 95]) if valid.size else (0.0, 0.0, 0.0)
    return {"valid": valid.size / d.size, "p5": p5, "p50": p50, "p95": p95}


def mesh_stats(vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray) -> dict[str, float]:
    """Vertex and face counts, the bounding box (metres) and the mean colour of a mesh."""
    v = np.asarray(vertices, np.float64)
    lo, hi = v.min(axis=0), v.max(axis=0)
    out = {"vertices": float(len(v)), "faces": float(len(faces)), "color_mean": float(np.mean(colors))}
    out.update({f"bbox_{k}{axis}": float(b[i]) for k, b in (("min_", lo), ("max_", hi))
                for i, axis in enumerate("xyz")})
    return out


def flat(prefix: str, stats: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}.{k}": round(float(v), 6) for k, v in stats.items()}


def compare(got: dict[str, float], ref: dict[str, float], tolerances: dict[str, list[float]]) -> list[str]:
    """Names and values of the statistics outside their tolerance. A statistic's tolerance is chosen by the
    last dotted part of its name: [absolute, relative]; |got - ref| <= absolute + relative * |ref|."""
    bad = []
    if sorted(got) != sorted(ref):
        bad.append(f"statistics differ: missing {sorted(set(ref) - set(got))}, new {sorted(set(got) - set(ref))}")
    for name in sorted(set(got) & set(ref)):
        atol, rtol = tolerances[name.rsplit(".", 1)[-1]]
        if not abs(got[name] - ref[name]) <= atol + rtol * abs(ref[name]):
            bad.append(f"{name}: {got[name]:.6g} vs reference {ref[name]:.6g} (tolerance {atol:g} + {rtol:g} x ref)")
    return bad
