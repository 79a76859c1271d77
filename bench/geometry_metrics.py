"""Point sets seen by a set of cameras, and Chamfer distance / F-score between two point sets.

Both surfaces are sampled the same way: each mesh is ray-cast (``text3d.render.Raycaster``) from the same
cameras and every hit pixel is unprojected (``text3d.geometry.unproject``). Comparing the two point sets then
scores only the region the cameras saw, at the same sampling density on both sides.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def visible_points(vertices: np.ndarray, faces: np.ndarray, K: np.ndarray, poses: Sequence[np.ndarray],
                   size: tuple[int, int]) -> np.ndarray:
    """(n, 3) float64 world points: the surface of the mesh (V (v, 3) m, F (f, 3)) hit by the pixel rays of
    every camera (K (3, 3) for ``size`` (H, W), cam_to_world (4, 4) poses)."""
    from text3d.geometry import unproject
    from text3d.mesh import Mesh
    from text3d.render import Raycaster

    v = np.asarray(vertices, np.float64)
    caster = Raycaster(Mesh(v, faces, np.zeros((len(v), 3), np.float32)))
    pts = []
    for pose in poses:
        r = caster.render(K, pose, size[0], size[1], fill_pinholes=False)
        if r.hit.any():
            pts.append(unproject(r.depth, K, pose)[r.hit])
    return np.concatenate(pts) if pts else np.zeros((0, 3))


def subsample(points: np.ndarray, max_points: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``max_points`` rows of ``points``, drawn without replacement with ``rng``."""
    if len(points) <= max_points:
        return points
    return points[rng.choice(len(points), max_points, replace=False)]


def chamfer_fscore(pred: np.ndarray, gt: np.ndarray, thresholds: Sequence[float] = (0.05, 0.10)) -> dict:
    """Distances between point sets pred (n, 3) and gt (m, 3), metres.

    accuracy: mean distance pred -> nearest gt; completeness: mean distance gt -> nearest pred;
    chamfer: their sum (L1 Chamfer distance); per threshold tau: precision (share of pred within tau of gt),
    recall (share of gt within tau of pred) and F-score 2PR / (P + R). Empty sets give NaN.
    """
    from scipy.spatial import cKDTree

    pred, gt = np.asarray(pred, np.float64).reshape(-1, 3), np.asarray(gt, np.float64).reshape(-1, 3)
    out: dict = {"pred_points": int(len(pred)), "gt_points": int(len(gt))}
    if len(pred) == 0 or len(gt) == 0:
        out.update({"accuracy": float("nan"), "completeness": float("nan"), "chamfer": float("nan")})
        for t in thresholds:
            out[f"precision@{t:g}"] = out[f"recall@{t:g}"] = out[f"fscore@{t:g}"] = float("nan")
        return out
    d_pred = cKDTree(gt).query(pred)[0]  # (n,)
    d_gt = cKDTree(pred).query(gt)[0]  # (m,)
    out.update({"accuracy": float(d_pred.mean()), "completeness": float(d_gt.mean()),
                "chamfer": float(d_pred.mean() + d_gt.mean())})
    for t in thresholds:
        p, r = float((d_pred < t).mean()), float((d_gt < t).mean())
        out[f"precision@{t:g}"], out[f"recall@{t:g}"] = p, r
        out[f"fscore@{t:g}"] = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return out
