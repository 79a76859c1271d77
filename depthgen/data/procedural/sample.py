"""The public entry points: ``build_scene``, ``render_view``, ``generate_sample`` and ``split_seed``.

Determinism: everything derives from ``np.random.default_rng`` streams keyed by the integer seed (scene,
camera, sensor and captions each get their own stream), so a seed gives the same scene and image anywhere
and the camera does not depend on the image size.

Realism (sim-to-real effects, ``realism.RealismConfig``): off by default (``realism=None``), so existing
callers, the shipped models' training data, the layout bank and the benchmarks see the engine unchanged;
``realism="on"`` (or a config) adds dressing and light variety to the scene, a wider field of view and the
camera's image formation (``photo.develop``), each from its own seeded stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from depthgen.data.procedural.builder import SceneBuilder
from depthgen.data.procedural.camera import sample_camera, sample_close_camera, tilt_pose
from depthgen.data.procedural.captions import make_captions
from depthgen.data.procedural.indoor import ROOM_TYPES, build_room
from depthgen.data.procedural.outdoor import OUTDOOR_TYPES, build_outdoor
from depthgen.data.procedural.realism import (RealismConfig, close_framed, draw_hfov, realism_config, stream,
                                              vary_lights)
from depthgen.data.procedural.render import intrinsics, render_clean
from depthgen.data.procedural.scene import Scene
from depthgen.data.procedural.sensors import SENSORS, simulate

SCENE_TYPES = ROOM_TYPES + OUTDOOR_TYPES
DEFAULT_OUTDOOR_FRACTION = 0.2
# Disjoint seed ranges per split: seed = offset + index, index < size.
SPLITS = {"train": (0, 1_000_000_000), "val": (1_000_000_000, 50_000_000), "test": (1_050_000_000, 50_000_000)}


def split_seed(split: str, index: int) -> int:
    """The seed of sample ``index`` of ``split`` ("train" | "val" | "test"); the three ranges are disjoint."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    offset, size = SPLITS[split]
    if not 0 <= int(index) < size:
        raise ValueError(f"{split} index must be in [0, {size}), got {index}")
    return offset + int(index)


def choose_scene_type(seed: int, outdoor_fraction: float = DEFAULT_OUTDOOR_FRACTION) -> str:
    """The scene type of a seed: outdoor with probability ``outdoor_fraction``, types uniform within."""
    if not 0.0 <= outdoor_fraction <= 1.0:
        raise ValueError(f"outdoor_fraction must be in [0, 1], got {outdoor_fraction}")
    rng = np.random.default_rng([int(seed), 0])
    u, k = rng.random(), rng.random()
    types = OUTDOOR_TYPES if u < outdoor_fraction else ROOM_TYPES
    return types[int(k * len(types))]


def build_scene(seed: int, scene_type: str | None = None,
                outdoor_fraction: float = DEFAULT_OUTDOOR_FRACTION, realism: Any = None) -> Scene:
    """The scene of ``seed`` (its type drawn from the seed unless ``scene_type`` is given).

    ``realism`` (see ``realism.realism_config``): posters and clutter indoors, light colours and strengths,
    detailed textures and specular highlights (in renders); None builds the plain scene.
    ``scene.mesh()`` -> (V (n, 3) float64 m, F (m, 3) int64, C (n, 3) float [0, 1])."""
    seed = int(seed)
    cfg = realism_config(realism)
    if scene_type is None:
        scene_type = choose_scene_type(seed, outdoor_fraction)
    if scene_type not in SCENE_TYPES:
        raise ValueError(f"scene_type must be one of {SCENE_TYPES}, got {scene_type!r}")
    outdoor = scene_type in OUTDOOR_TYPES
    b = SceneBuilder(seed, scene_type, outdoor, np.random.default_rng([seed, 1]))
    (build_outdoor if outdoor else build_room)(b, scene_type)
    if cfg is None:
        return b.finish()
    from depthgen.data.procedural.clutter import dress_room

    dress_room(b, cfg.posters, cfg.clutter, seed)
    scene = b.finish()
    scene.realism = cfg
    if cfg.light_colour:
        vary_lights(scene, stream(seed, "light"))
    return scene


def _check_size(size) -> tuple[int, int]:
    try:
        h, w = (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"size must be (H, W) integers, got {size!r}") from None
    if h < 1 or w < 1:
        raise ValueError(f"size must be (H, W) with both >= 1, got {h}x{w}")
    return h, w


def render_view(scene: Scene, K: np.ndarray, cam_to_world: np.ndarray, size: tuple[int, int] = (64, 64),
                sensor: str | None = None, sensor_seed: int | None = None, captions: bool = True,
                photo_seed: int | None = None) -> dict[str, Any]:
    """Render ``scene`` from any pinhole camera: the same keys as ``generate_sample``.

    Args:
        K: (3, 3) intrinsics for ``size`` (H, W); cam_to_world: (4, 4) OpenCV pose (x right, y down, z fwd).
        sensor: None (sensor_depth = depth), "kinect" or "lidar"; sensor_seed: its noise stream (default:
            the scene seed).
        photo_seed: the image-formation stream of a realism scene (default: the scene seed); a plain scene's
            image has none.
    Returns rgb (H, W, 3) uint8, depth (H, W) float32 m z-depth (0 = sky), valid bool, sensor_depth float32
    (0 = hole), normal (H, W, 3) float32 camera frame, object_id / material_id (H, W) int32 (-1 = sky),
    K, cam_to_world, caption, captions, scene_type, outdoor, seed, sensor.
    """
    if sensor is not None and sensor not in SENSORS:
        raise ValueError(f"sensor must be one of {SENSORS} or None, got {sensor!r}")
    h, w = _check_size(size)
    view = render_clean(scene, K, cam_to_world, (h, w))
    srng = np.random.default_rng([scene.seed if sensor_seed is None else int(sensor_seed), 3])
    view["sensor_depth"] = simulate(sensor, view, srng)
    view["sensor"] = (None if sensor is None else "lidar" if scene.outdoor else sensor)
    if captions:
        caps = make_captions(scene, view["object_id"], np.random.default_rng([scene.seed, 4]))
        view["captions"], view["caption"] = caps, caps[0]
    cfg: RealismConfig | None = scene.realism
    if cfg is not None and cfg.any_photo():
        from depthgen.data.procedural.photo import develop

        seed = scene.seed if photo_seed is None else int(photo_seed)
        view["rgb"] = develop(view["linear"], view["depth"], view["valid"], cfg, seed)
    del view["albedo"], view["linear"]
    return view


def generate_sample(seed: int, size: tuple[int, int] = (64, 64), sensor: str | None = "kinect",
                    outdoor_fraction: float = DEFAULT_OUTDOOR_FRACTION,
                    scene_type: str | None = None, realism: Any = None, pitch_offset_deg: float = 0.0) -> dict[str, Any]:
    """One captioned RGB-D sample: build the scene of ``seed``, draw a camera, render, simulate the sensor.

    Returns the ``render_view`` dict (rgb (H, W, 3) uint8, depth (H, W) float32 m, valid, sensor_depth, K,
    cam_to_world, caption, captions, scene_type, outdoor, seed, normal, object_id, material_id). Kinect on an
    outdoor scene uses the lidar model (``sample["sensor"]`` says which). ``realism``: None / "off" (default:
    the plain engine), "on", "on,-jpeg,..." or a ``RealismConfig``; a realism sample adds ``realism`` (the
    effects' on/off dict), with ``fov`` on its field of view is drawn from ``REALISM_HFOV_RANGE`` (``K``
    is always the camera the image was rendered with), and with ``close_range`` on half the indoor views are
    framed close (``camera.sample_close_camera``). ``pitch_offset_deg`` tilts the drawn camera up (positive)
    or down about its own x axis (``camera.tilt_pose``; 0 = as drawn): views beyond the engine's pitch range,
    such as text3d's clean-up views, for benchmarks."""
    if sensor is not None and sensor not in SENSORS:
        raise ValueError(f"sensor must be one of {SENSORS} or None, got {sensor!r}")
    h, w = _check_size(size)
    cfg = realism_config(realism)
    scene = build_scene(seed, scene_type, outdoor_fraction, realism=cfg)
    framing = close_framed(seed, scene.outdoor) if cfg is not None and cfg.close_range else None
    if framing is not None:
        hfov, pose = sample_close_camera(scene, framing)
    else:
        hfov, pose = sample_camera(scene, np.random.default_rng([int(seed), 2]))
    if cfg is not None and cfg.fov:
        hfov = draw_hfov(seed)
    if pitch_offset_deg:
        pose = tilt_pose(pose, float(pitch_offset_deg))
    view = render_view(scene, intrinsics((h, w), hfov), pose, (h, w), sensor=sensor)
    if cfg is not None:
        view["realism"] = cfg.to_dict()
    return view
