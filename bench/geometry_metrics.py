"""Point sets seen by a set of cameras, and Chamfer distance / F-score between two point sets.

Both surfaces are sampled the same way: each mesh is ray-cast (``text3d.geometry.render.Raycaster``) from the same
cameras and every hit pixel is unprojected (``text3d.geometry.projection.unproject``). Comparing the two point sets then
scores only the region the cameras saw, at the same sampling density on both sides. ``paired_points`` keeps a
generated point only where the true surface is hit too, so geometry put in the sky (outdoor scenes, where the
truth has no surface) is not scored.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from text3d.geometry.mesh import Mesh
from text3d.geometry.projection import unproject
from text3d.geometry.render import Raycaster


def add_scoring_args(p: Any, work_dir: str) -> None:
    """The options of a benchmark that runs text3d and scores its mesh against a true surface: --eval-scale,
    --max-points, --set KEY=VALUE (repeatable text3d preset overrides) and --work-dir (its run folders)."""
    p.add_argument("--eval-scale", type=float, default=2.0, help="ray-casting resolution x the view size")
    p.add_argument("--max-points", type=int, default=200_000, help="points per set (seeded subsample)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="extra text3d preset override (repeatable)")
    p.add_argument("--work-dir", default=work_dir, help="text3d run folders")


def paired_points(gt_vertices: np.ndarray, gt_faces: np.ndarray, vertices: np.ndarray, faces: np.ndarray,
                  K: np.ndarray, poses: Sequence[np.ndarray], size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(true points (n, 3), generated points (m, 3)) from the same cameras: every pixel where the true surface
    is hit gives a true point, and a generated point where the generated mesh is hit as well."""
    casters = [Raycaster(Mesh(np.asarray(v, np.float64), f, np.zeros((len(v), 3), np.float32)))
               for v, f in ((gt_vertices, gt_faces), (vertices, faces))]
    gt_pts, pred_pts = [], []
    for pose in poses:
        g, p = (c.render(K, pose, size[0], size[1], fill_pinholes=False) for c in casters)
        gt_pts.append(unproject(g.depth, K, pose)[g.hit])
        pred_pts.append(unproject(p.depth, K, pose)[g.hit & p.hit])
    empty = np.zeros((0, 3))
    return (np.concatenate(gt_pts) if gt_pts else empty), (np.concatenate(pred_pts) if pred_pts else empty)


def subsample(points: np.ndarray, max_points: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``max_points`` rows of ``points``, drawn without replacement with ``rng``."""
    if len(points) <= max_points:
        return points
    return points[rng.choice(len(points), max_points, replace=False)]


def plot_top_view(ax: Any, truth: np.ndarray, generated: np.ndarray, rng: np.random.Generator, title: str,
                  dims: tuple[int, int] = (0, 1), axis_labels: tuple[str, str] = ("x (m)", "y (m)"),
                  truth_label: str = "true surface") -> None:
    """Scatter up to 20,000 points of each (n, 3) set on the matplotlib axis ``ax``, coordinates ``dims``
    (the true surface grey, the generated one orange), with equal scales, a title, labels and a legend."""
    for pts, label, colour in ((truth, truth_label, "tab:grey"), (generated, "generated", "tab:orange")):
        pts = subsample(pts, 20_000, rng)
        ax.scatter(pts[:, dims[0]], pts[:, dims[1]], s=0.3, c=colour, label=label, alpha=0.5)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.legend(fontsize=7, markerscale=10)


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
