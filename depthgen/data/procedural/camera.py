"""Camera sampling: a plausible pinhole camera (eye height, slight downward pitch, field of view) that looks
into the scene rather than at a nearby wall, checked with a coarse probe cast."""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.render import camera_rays, cast_from, intrinsics
from depthgen.data.procedural.scene import Scene
from depthgen.models.camera import rotation_ypr

HFOV_RANGE = (55.0, 75.0)  # degrees
EYE_RANGE = (1.2, 1.8)  # metres above the floor / ground
CLOSE_MEDIAN_RANGE = (0.9, 2.5)  # metres: median depth of handheld photos of counters, shelves and tables
CLOSE_EYE_RANGE = (0.9, 1.7)  # metres above the floor
CLOSE_PITCH_RANGE = (-45.0, -5.0)  # degrees


def look_pose(eye: np.ndarray, yaw: float, pitch: float, roll: float = 0.0) -> np.ndarray:
    """cam_to_world (4, 4) for an OpenCV camera at ``eye`` (world z up) looking along heading ``yaw`` (0 = +y,
    positive turns towards -x), ``pitch`` radians up (negative looks down), ``roll`` about the view axis."""
    cp = np.cos(pitch)
    f = np.array([-np.sin(yaw) * cp, np.cos(yaw) * cp, np.sin(pitch)])
    r = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    d = np.cross(f, r)
    if roll:
        c, s = np.cos(roll), np.sin(roll)
        r, d = c * r + s * d, -s * r + c * d
    T = np.eye(4)
    T[:3, :3] = np.stack([r, d, f], 1)
    T[:3, 3] = eye
    return T


def tilt_pose(cam_to_world: np.ndarray, pitch_deg: float) -> np.ndarray:
    """The OpenCV camera ``cam_to_world`` (4, 4) tilted ``pitch_deg`` degrees about its own x axis (positive
    looks up, negative down), at the same place."""
    out = np.array(cam_to_world, dtype=np.float64, copy=True)
    out[:3, :3] = out[:3, :3] @ rotation_ypr(0.0, float(np.radians(pitch_deg)), 0.0)
    return out


def _probe(scene: Scene, candidates: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """(n, 3): (10th percentile depth, median depth, sky fraction) of a 9 x 12 probe image per candidate
    (hfov, pose), all cast in one batch."""
    dirs, origins = [], []
    for hfov, pose in candidates:
        o, d = camera_rays(intrinsics((9, 12), hfov), pose, (9, 12))
        dirs.append(d.reshape(-1, 3))
        origins.append(np.broadcast_to(o, (108, 3)))
    t = cast_from(scene, np.concatenate(origins), np.concatenate(dirs))["t_hit"].reshape(len(candidates), -1)
    out = np.zeros((len(candidates), 3))
    for i, row in enumerate(t):
        hit = row[np.isfinite(row)]
        out[i] = (np.percentile(hit, 10), np.median(hit), 1 - hit.size / row.size) if hit.size else (0, 0, 1)
    return out


def sample_camera(scene: Scene, rng: np.random.Generator, tries: int = 6) -> tuple[float, np.ndarray]:
    """(hfov degrees, cam_to_world (4, 4)) drawn from the scene's camera hints; the candidate with the most
    open view among ``tries`` (all drawn from ``rng``, so deterministic)."""
    hint = scene.camera
    cands = []
    for _ in range(tries):
        hfov = rng.uniform(*HFOV_RANGE)
        cx, cy = hint.get("position", (0.0, 0.0))
        if scene.outdoor:
            eye_h = rng.uniform(*EYE_RANGE) + hint.get("ground", 0.0)
            eye = np.array([cx + rng.uniform(-0.5, 0.5), cy + rng.uniform(-0.5, 0.5), eye_h])
            yaw = hint.get("yaw", 0.0) + rng.uniform(-1, 1) * hint.get("yaw_jitter", 0.3)
            pitch = np.radians(rng.uniform(-10.0, 2.0))
        else:
            W, D, H = hint["room"]
            eye = np.array([np.clip(cx + rng.uniform(-0.3, 0.3), 0.4, W - 0.4),
                            np.clip(cy + rng.uniform(-0.15, 0.15), 0.2, D - 0.4),
                            min(rng.uniform(*EYE_RANGE), H - 0.3)])
            yaw = hint.get("yaw", 0.0) + rng.uniform(-0.55, 0.55)
            pitch = np.radians(rng.uniform(-16.0, -3.0))
        cands.append((float(hfov), look_pose(eye, yaw, pitch, np.radians(rng.uniform(-1.5, 1.5)))))
    stats = _probe(scene, cands)
    p10, med, sky = stats.T
    if scene.outdoor:
        score = np.minimum(med, 30.0) - 40.0 * np.maximum(sky - 0.6, 0.0) - 20.0 * (p10 < 1.0)
    else:
        score = np.minimum(med, 6.0) + np.minimum(p10, 1.5) * 2.0
    return cands[int(np.argmax(score))]


def sample_close_camera(scene: Scene, rng: np.random.Generator, tries: int = 12) -> tuple[float, np.ndarray]:
    """(hfov degrees, cam_to_world (4, 4)) of an indoor view framed close, as handheld photos are: the eye
    anywhere in the room, any heading, looking further down than ``sample_camera``; of ``tries`` candidates
    (all drawn from ``rng``) the one whose median depth is nearest a target drawn from ``CLOSE_MEDIAN_RANGE``
    and whose nearest tenth is at least 0.4 m away (not inside or against furniture)."""
    W, D, H = scene.camera["room"]
    target = rng.uniform(*CLOSE_MEDIAN_RANGE)
    cands = []
    for _ in range(tries):
        hfov = rng.uniform(*HFOV_RANGE)
        eye = np.array([rng.uniform(0.3, W - 0.3), rng.uniform(0.3, D - 0.3),
                        min(rng.uniform(*CLOSE_EYE_RANGE), H - 0.3)])
        yaw, pitch = rng.uniform(-np.pi, np.pi), np.radians(rng.uniform(*CLOSE_PITCH_RANGE))
        cands.append((float(hfov), look_pose(eye, yaw, pitch, np.radians(rng.uniform(-3.0, 3.0)))))
    p10, med, sky = _probe(scene, cands).T
    score = -np.abs(med - target) - 10.0 * (p10 < 0.4) - 10.0 * (sky > 0)
    return cands[int(np.argmax(score))]
