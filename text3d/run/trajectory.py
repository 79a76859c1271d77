"""Camera trajectories: presets (orbit, walk, zoom-out) and segment files with their own prompts.

Poses live in the generation world frame: OpenCV axes, the presets start at the identity (the first view),
world up is -y. A segment file (YAML or JSON) lists segments, each with a preset or explicit poses and
optionally its own prompt, as in Text2Room::

    segments:
      - {preset: orbit, views: 4, params: {orbit_degrees: 90}}          # starts at the first view
      - prompt: "a bed by the window"
        poses:                                                          # absolute, first view's frame
          - {position: [0.0, 0.0, 0.3], yaw_deg: 120, pitch_deg: -10}
          - [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0.5], [0, 0, 0, 1]]  # a 4x4 cam_to_world
      - {preset: walk, views: 3}                                        # continues from the last pose

A preset segment continues from the previous segment's last pose (the first one starts at the identity and
includes it). Explicit poses are used as given.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from text3d.config import TRAJECTORY_PRESETS, TrajectoryConfig
from text3d.geometry.cameras import make_pose, rotation_homography, rotation_x, rotation_y, yaw_pitch_pose

UP = np.array([0.0, -1.0, 0.0])   # world up in the OpenCV-style generation frame


@dataclass
class ViewSpec:
    """One view to generate: cam_to_world (4, 4), the prompt for its inpainting, its segment, and its kind
    (``first`` | ``trajectory`` | ``cleanup``)."""

    cam_to_world: np.ndarray
    prompt: str
    segment: int = 0
    kind: str = "trajectory"


@dataclass
class Segment:
    """A piece of the path: a preset with ``views`` and parameters, or explicit ``poses``; its own prompt."""

    prompt: str | None = None
    preset: str | None = None
    views: int = 1
    params: dict[str, float] = dataclasses.field(default_factory=dict)  # TrajectoryConfig fields
    poses: list[np.ndarray] | None = None


def forward_flat(rotation: np.ndarray) -> np.ndarray:
    """The camera's viewing direction projected onto the horizontal plane, unit length (3,)."""
    f = rotation[:, 2].copy()
    f -= UP * (f @ UP)
    n = np.linalg.norm(f)
    return f / n if n > 1e-9 else np.array([0.0, 0.0, 1.0])


def level_rotation(rotation: np.ndarray) -> np.ndarray:
    """(3, 3) camera axes with the heading of ``rotation`` and neither pitch nor roll (z = ``forward_flat``,
    y = down)."""
    z = forward_flat(rotation)
    y = -UP
    return np.stack([np.cross(y, z), y, z], axis=1)


def level_view_homography(K: np.ndarray, cam_to_world: np.ndarray) -> np.ndarray:
    """(3, 3) pixel map from the level camera at the same place and heading (no pitch, no roll) to the view
    ``cam_to_world`` (4, 4) with intrinsics ``K`` (3, 3): where each pixel of a level picture is seen by the
    tilted view. The identity for a level view."""
    rotation = np.asarray(cam_to_world, np.float64)[:3, :3]
    return rotation_homography(K, level_rotation(rotation), rotation)


def preset_poses(name: str, start: np.ndarray, count: int, cfg: TrajectoryConfig, scene_depth: float,
                 include_start: bool) -> list[np.ndarray]:
    """``count`` poses (4, 4) of preset ``name`` from ``start``; the first is ``start`` if ``include_start``.

    scene_depth: median depth (metres) of the first view; a walk never goes farther than
    ``cfg.walk_max_fraction`` of it, so the camera does not walk through the scene.
    """
    if name not in TRAJECTORY_PRESETS:
        raise ValueError(f"unknown trajectory {name!r}; use one of {', '.join(TRAJECTORY_PRESETS)} or a segment file")
    if count < 1:
        raise ValueError(f"a trajectory needs at least 1 view, got {count}")
    start = np.asarray(start, dtype=np.float64)
    rot0, pos0 = start[:3, :3], start[:3, 3]
    ks = range(0, count) if include_start else range(1, count + 1)
    moves = count - 1 if include_start else count
    fwd = forward_flat(rot0)
    poses = []
    for k in ks:
        if k == 0:
            poses.append(start.copy())
        elif name == "orbit":
            step = orbit_step(count, cfg.orbit_degrees, include_start)
            rot = rotation_y(step * k) @ rot0 @ rotation_x(cfg.orbit_pitch_deg)
            poses.append(make_pose(rot, pos0))
        elif name == "walk":
            step = min(cfg.walk_step, cfg.walk_max_fraction * max(scene_depth, 1e-3) / max(moves, 1))
            yaw = cfg.walk_sway_deg * np.sin(np.pi * k / 2.0)
            poses.append(make_pose(rotation_y(yaw) @ rot0, pos0 + fwd * step * k))
        else:  # zoom-out
            poses.append(make_pose(rot0, pos0 - fwd * cfg.zoom_step * k + UP * cfg.zoom_rise * k))
    return poses


def _parse_pose(item: Any, where: str) -> np.ndarray:
    if isinstance(item, dict):
        unknown = set(item) - {"position", "yaw_deg", "pitch_deg"}
        if unknown:
            raise ValueError(f"{where}: unknown pose key(s) {sorted(unknown)}; use position, yaw_deg, pitch_deg")
        pos = np.asarray(item.get("position", [0.0, 0.0, 0.0]), dtype=np.float64)
        if pos.shape != (3,):
            raise ValueError(f"{where}: position must be 3 numbers (metres)")
        return yaw_pitch_pose(pos, float(item.get("yaw_deg", 0.0)), float(item.get("pitch_deg", 0.0)))
    mat = np.asarray(item, dtype=np.float64)
    if mat.shape != (4, 4) or not np.allclose(mat[3], [0, 0, 0, 1]):
        raise ValueError(f"{where}: a pose must be a 4x4 cam_to_world matrix or {{position, yaw_deg, pitch_deg}}")
    rot = mat[:3, :3]
    if not np.allclose(rot.T @ rot, np.eye(3), atol=1e-4) or np.linalg.det(rot) < 0:
        raise ValueError(f"{where}: the 3x3 part of a pose must be a rotation")
    return mat


def parse_segments(data: Any, source: str = "trajectory") -> list[Segment]:
    """Segments from a parsed YAML/JSON mapping ``{segments: [...]}`` (see module docstring)."""
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list) or not data["segments"]:
        raise ValueError(f"{source}: expected a mapping with a non-empty 'segments' list")
    if set(data) - {"segments"}:
        raise ValueError(f"{source}: unknown top-level key(s) {sorted(set(data) - {'segments'})}")
    out = []
    fields = {f.name for f in dataclasses.fields(TrajectoryConfig)} - {"name", "views"}
    for i, seg in enumerate(data["segments"]):
        where = f"{source}: segment {i}"
        if not isinstance(seg, dict):
            raise ValueError(f"{where} must be a mapping")
        unknown = set(seg) - {"prompt", "preset", "views", "params", "poses"}
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; use prompt, preset, views, params, poses")
        prompt = seg.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise ValueError(f"{where}: prompt must be a string")
        if ("preset" in seg) == ("poses" in seg):
            raise ValueError(f"{where}: give either 'preset' (with 'views') or 'poses'")
        if "poses" in seg:
            poses = seg["poses"]
            if not isinstance(poses, list) or not poses:
                raise ValueError(f"{where}: poses must be a non-empty list")
            parsed = [_parse_pose(p, f"{where} pose {j}") for j, p in enumerate(poses)]
            out.append(Segment(prompt=prompt, views=len(parsed), poses=parsed))
            continue
        if seg["preset"] not in TRAJECTORY_PRESETS:
            raise ValueError(f"{where}: preset must be one of {', '.join(TRAJECTORY_PRESETS)}")
        views = seg.get("views", 1)
        if not isinstance(views, int) or views < 1:
            raise ValueError(f"{where}: views must be a whole number >= 1")
        params = seg.get("params", {}) or {}
        if not isinstance(params, dict) or set(params) - fields:
            raise ValueError(f"{where}: params may only hold {sorted(fields)}")
        try:
            params = {k: float(v) for k, v in params.items()}
        except (TypeError, ValueError):
            raise ValueError(f"{where}: params must be numbers") from None
        out.append(Segment(prompt=prompt, preset=seg["preset"], views=views, params=params))
    return out


def load_segments(path: str | Path) -> list[Segment]:
    """Read a segment file (.yaml, .yml or .json)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read trajectory file {path}: {e.__class__.__name__}") from None
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as e:  # yaml/json syntax errors of a user file
        raise ValueError(f"trajectory file {path} is not valid {path.suffix[1:].upper()}: {str(e).splitlines()[0]}") from None
    return parse_segments(data, str(path))


def resolve_trajectory(name: str, views: int) -> list[Segment]:
    """Segments for a preset name (one segment of ``views`` views) or a segment file path."""
    if name in TRAJECTORY_PRESETS:
        return [Segment(preset=name, views=views)]
    path = Path(name)
    if path.suffix in (".yaml", ".yml", ".json") and path.exists():
        return load_segments(path)
    raise ValueError(f"unknown trajectory {name!r}; use orbit, walk, zoom-out or a path to a .yaml/.json segment file")


def orbit_step(count: int, degrees: float, include_start: bool) -> float:
    """Degrees turned per view by an orbit segment of ``count`` views (see ``preset_poses``)."""
    full = degrees >= 360.0
    return degrees / (count if (full or not include_start) else max(count - 1, 1))


def min_orbit_views(degrees: float, fov_deg: float, min_overlap_deg: float, include_start: bool = True) -> int:
    """Fewest views an orbit segment turning ``degrees`` needs so consecutive views overlap by
    ``min_overlap_deg`` at a horizontal field of view of ``fov_deg`` (all in degrees)."""
    cap = fov_deg - min_overlap_deg
    full = degrees >= 360.0 or not include_start
    return int(np.ceil(degrees / max(cap, 1e-6) - 1e-9)) + (0 if full else 1)


def check_overlap(segments: Sequence[Segment], cfg: TrajectoryConfig, fov_deg: float | None = None) -> None:
    """Raise ValueError if an orbit segment turns so far per view that consecutive views overlap by less
    than ``min_overlap_deg`` (a new view would have no rendered pixels to keep; its depth scale floats free).

    fov_deg: the run's horizontal field of view in degrees (None: ``cfg.fov_deg``). Called before any model loads.
    """
    camera = {} if fov_deg is None else {"fov_deg": float(fov_deg)}
    for i, seg in enumerate(segments):
        if seg.preset != "orbit" or seg.views < (2 if i == 0 else 1):
            continue
        params = dataclasses.replace(cfg, **{**camera, **seg.params})
        step = orbit_step(seg.views, params.orbit_degrees, include_start=i == 0)
        cap = params.fov_deg - params.min_overlap_deg
        if step > cap + 1e-9:
            need = min_orbit_views(params.orbit_degrees, params.fov_deg, params.min_overlap_deg, include_start=i == 0)
            raise ValueError(f"orbit views do not overlap: {step:.0f} deg per view with a {params.fov_deg:.0f} deg "
                             f"field of view; use at least {need} views or a smaller orbit_degrees")


def build_views(segments: Sequence[Segment], cfg: TrajectoryConfig, prompt: str, scene_depth: float) -> list[ViewSpec]:
    """All trajectory views in order; the first has kind ``first``. Segment prompts default to ``prompt``."""
    views: list[ViewSpec] = []
    last = np.eye(4)
    for i, seg in enumerate(segments):
        seg_prompt = seg.prompt if seg.prompt and seg.prompt.strip() else prompt
        if seg.poses is not None:
            poses = [p.copy() for p in seg.poses]
        else:
            params = dataclasses.replace(cfg, **seg.params)
            poses = preset_poses(seg.preset, last, seg.views, params, scene_depth, include_start=not views)
        for pose in poses:
            views.append(ViewSpec(pose, seg_prompt, i, "first" if not views else "trajectory"))
        last = views[-1].cam_to_world
    return views


def first_pose(segments: Sequence[Segment]) -> np.ndarray:
    """The first view's pose: identity for a preset start, else the first explicit pose."""
    seg = segments[0]
    return seg.poses[0].copy() if seg.poses is not None else np.eye(4)
