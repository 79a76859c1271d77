"""The hole clean-up pass: candidate viewpoints near the trajectory, scored by how much of their view the mesh
leaves empty, the worst few kept (no two alike) and added to the scene as views of kind ``cleanup``."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from text3d.config import CleanupConfig
from text3d.geometry.cameras import make_pose, rotation_x, rotation_y, scale_intrinsics
from text3d.geometry.render import Raycaster
from text3d.run.manifest import Timings
from text3d.run.scene import SceneBuilder
from text3d.run.trajectory import UP, ViewSpec, forward_flat


def candidate_poses(views: Sequence[ViewSpec], cfg: CleanupConfig, scene_depth: float) -> list[tuple[np.ndarray, int]]:
    """Candidate cam_to_world (4, 4) poses with the index of the trajectory view each came from.

    Around every trajectory pose: turned left/right by ``yaw_deg``, tilted up/down by ``pitch_deg``, and
    stepped back by ``back_fraction`` of the median scene depth (each alone), so the candidates look at
    the borders and behind the edges of what the trajectory saw.
    """
    out = []
    back = cfg.back_fraction * max(scene_depth, 1e-3)
    for i, view in enumerate(views):
        rot, pos = view.cam_to_world[:3, :3], view.cam_to_world[:3, 3]
        for yaw in (-cfg.yaw_deg, cfg.yaw_deg):
            out.append((make_pose(rotation_y(yaw) @ rot, pos), i))
        for pitch in (-cfg.pitch_deg, cfg.pitch_deg):
            out.append((make_pose(rot @ rotation_x(pitch), pos), i))
        out.append((make_pose(rot, pos - forward_flat(rot) * back + UP * 0.3 * back), i))
    return out


def hole_scores(raycaster: Raycaster, K: np.ndarray, view_size: tuple[int, int], poses: Sequence[np.ndarray],
                score_size: int) -> np.ndarray:
    """(N,) float: fraction of pixels each pose sees no surface through, rendered at ``score_size`` px."""
    h, w = view_size
    sh = max(4, int(round(score_size * h / max(h, w))))
    sw = max(4, int(round(score_size * w / max(h, w))))
    Ks = scale_intrinsics(K, (h, w), (sh, sw))
    return np.array([1.0 - raycaster.render(Ks, p, sh, sw).hit.mean() for p in poses], dtype=np.float64)


def _too_close(a: np.ndarray, b: np.ndarray, min_angle_deg: float, min_dist: float) -> bool:
    cos = np.clip((np.trace(a[:3, :3].T @ b[:3, :3]) - 1.0) / 2.0, -1.0, 1.0)
    return bool(np.degrees(np.arccos(cos)) < min_angle_deg and np.linalg.norm(a[:3, 3] - b[:3, 3]) < min_dist)


def pick_cleanup_views(raycaster: Raycaster, K: np.ndarray, view_size: tuple[int, int],
                       views: Sequence[ViewSpec], cfg: CleanupConfig, scene_depth: float) -> tuple[list[ViewSpec], list[float]]:
    """Up to ``cfg.views`` clean-up views, worst hole fraction first, each above ``cfg.min_hole_fraction``.

    A candidate within half the yaw step and 10% of the scene depth of an already chosen one is skipped, so
    the picks look at different holes. Returns the views (kind ``cleanup``, the prompt of the trajectory view
    they came from) and their hole fractions. Deterministic: ties keep candidate order.
    """
    if cfg.views <= 0 or not views:
        return [], []
    cands = candidate_poses(views, cfg, scene_depth)
    scores = hole_scores(raycaster, K, view_size, [p for p, _ in cands], cfg.score_size)
    chosen: list[ViewSpec] = []
    fractions: list[float] = []
    for j in np.argsort(-scores, kind="stable"):
        if scores[j] < cfg.min_hole_fraction or len(chosen) >= cfg.views:
            break
        pose, src = cands[j]
        if any(_too_close(pose, c.cam_to_world, cfg.yaw_deg / 2, 0.1 * scene_depth) for c in chosen):
            continue
        chosen.append(ViewSpec(pose, views[src].prompt, views[src].segment, "cleanup"))
        fractions.append(float(scores[j]))
    return chosen, fractions


def add_cleanup_views(builder: SceneBuilder, cfg: CleanupConfig, specs: Sequence[ViewSpec], scene_depth: float,
                      timings: Timings, report: Callable[[float], None]) -> list[float]:
    """Add ``cfg.views`` views aimed at the largest holes the trajectory ``specs`` left; returns the hole
    fraction each was chosen for (empty when clean-up is off). scene_depth: metres; report: the fraction of
    the clean-up done."""
    if not cfg.views:
        return []
    with timings("cleanup-search"):
        extra, fractions = pick_cleanup_views(builder.raycaster(), builder.K, builder.size, specs, cfg, scene_depth)
    report(0.3 / (cfg.views + 0.3))
    for i, spec in enumerate(extra):
        builder.add_view(spec, lambda f, i=i: report((0.3 + i + f) / (cfg.views + 0.3)))
    report(1.0)
    return fractions
