"""Text-to-3D presets: dataclasses loaded from ``configs/text3d/<name>.yaml`` with ``depthgen.common.config``.

A preset names the backends (by registry name), the view size, sampling steps, the trajectory and the
settings of every later part of a run. ``load_preset("fast", ["trajectory.views=3"])`` gives a validated config.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs" / "text3d"
TRAJECTORY_DIR = Path(__file__).resolve().parent.parent / "configs" / "trajectories"
TRAJECTORY_PRESETS = ("orbit", "walk", "zoom-out")
PHOTO_MAX_PIXELS = 4096 * 4096     # the largest photo (width x height) the CLI, the API and the UI take
MAX_VIEWS = 256                     # views of one run (--views, trajectory.views, a segment file's total)
# whole-number settings with bounds beyond "at least 1" (inclusive; a run's time and memory grow with them)
INT_RANGES = {"steps.t2i": (1, 1000), "steps.inpaint": (1, 1000), "steps.depth": (1, 1000), "sr.steps": (1, 1000),
              "depth_samples": (1, 64), "trajectory.views": (1, MAX_VIEWS), "cleanup.views": (0, 64),
              "cleanup.score_size": (8, 1024), "lift.hole_dilation": (0, 64), "lift.min_hole_pixels": (0, 10**6),
              "lift.mesh_stride": (1, 64), "video.frames": (2, 10000), "video.fps": (1, 240),
              "video.height": (16, 4096), "video.width": (16, 4096), "sr.scale": (2, 16), "sr.blend_band": (0, 64),
              "sr.depth_radius": (1, 64), "height": (1, 65536), "width": (1, 65536), "size_multiple": (1, 256),
              "min_size": (1, 65536), "max_size": (1, 65536)}


@dataclass
class BackendNames:
    """Registry names (``embedded``, a hub id, a local folder or a DepthGen path) of the three models."""

    t2i: str = "embedded"
    inpaint: str = "embedded"
    depth: str = "embedded"


@dataclass
class StepsConfig:
    """Sampling steps per model."""

    t2i: int = 25
    inpaint: int = 20
    depth: int = 10


@dataclass
class TrajectoryConfig:
    """Camera path: a preset name or a segment file, and the parameters of the presets (metres, degrees)."""

    name: str = "orbit"             # orbit | walk | zoom-out | path to a .yaml/.json segment file
    views: int = 8                  # views including the first
    fov_deg: float = 60.0           # horizontal field of view
    orbit_degrees: float = 360.0    # total turn; 360 spreads the views evenly round the circle
    orbit_pitch_deg: float = 0.0    # tilt up (+) or down (-) of every orbit view
    min_overlap_deg: float = 15.0   # consecutive orbit views must overlap at least this much (else an error)
    walk_step: float = 0.25         # metres forward per view
    walk_sway_deg: float = 20.0     # yaw swing left/right while walking
    walk_max_fraction: float = 0.6  # never walk farther than this fraction of the first view's median depth
    zoom_step: float = 0.3          # metres backward per view
    zoom_rise: float = 0.05         # metres up per view while zooming out


@dataclass
class LiftConfig:
    """How filled pixels become triangles."""

    hole_dilation: int = 1          # px ring of known pixels that new triangles attach to
    max_grazing_deg: float = 86.0   # drop triangles seen more obliquely (stretched over depth edges)
    free_space_margin: float = 0.03  # relative depth margin of the free-space test against earlier views
    min_hole_pixels: int = 4        # a view with fewer uncovered pixels adds nothing
    mesh_stride: int = 1            # mesh every n-th pixel (2 for 512 px views: 4x fewer triangles)
    max_depth_ratio: float = 0.0    # cap filled depth at this x the first view's farthest depth (0 = no cap)


@dataclass
class CleanupConfig:
    """Hole clean-up pass: extra viewpoints near the trajectory where the mesh still shows holes."""

    views: int = 2                  # extra views to fill (0 disables the pass)
    min_hole_fraction: float = 0.02  # candidates with fewer holes are not worth a view
    score_size: int = 32            # render candidates at this many pixels square to score holes
    yaw_deg: float = 25.0           # candidate turn left/right of each trajectory pose
    pitch_deg: float = 30.0         # candidate tilt up/down
    back_fraction: float = 0.15     # candidate step backward, fraction of the median scene depth


@dataclass
class FusionConfig:
    """The exported mesh: the merged view pieces (``mesh``) or a TSDF fusion of all views (``tsdf``)."""

    method: str = "mesh"
    min_component_fraction: float = 0.002
    tsdf_voxel: float = 0.0         # metres; 0 = 1.5 px footprint at the median depth
    tsdf_trunc_voxels: float = 4.0


@dataclass
class VideoConfig:
    """Novel-view video rendered from the mesh along a path different from the generation path."""

    enabled: bool = True
    height: int = 256
    width: int = 256
    frames: int = 48
    fps: int = 12
    offset: float = 0.08            # sideways/vertical swing, fraction of the median scene depth
    background: tuple[float, float, float] = (0.08, 0.08, 0.1)


@dataclass
class SRConfig:
    """Super-resolution cascade (``text3d.run.upscale``): the base models paint at (height, width) / scale, the
    embedded super-resolution model takes the painted pixels to the view size; pixels rendered from the mesh
    are rendered at the view size; depth is upsampled with the image as the guide. On in the default preset
    (configs/text3d/default.yaml); off here and in the fast and sd presets."""

    enabled: bool = False
    scale: int = 4                  # view size / the base models' size (64 -> 256 with 4)
    model: str = "embedded"         # embedded (assets/sr) | a saved SuperResolutionPipeline folder
    steps: int = 4                  # sampling steps of a diffusion super-resolution model (regression: unused)
    level: float | None = None      # conditioning-augmentation level in [0, 1]; None = the model's default
    blend_band: int = 3             # px: painted pixels within this of rendered ones are colour-matched to them
    depth_radius: int = 2           # joint bilateral upsampling window half-size (base-model pixels)
    depth_sigma_spatial: float = 1.0  # its spatial sigma (base-model pixels)
    depth_sigma_range: float = 0.1  # its colour sigma (RGB in [0, 1])


@dataclass
class Text3DConfig:
    """A whole text-to-3D run except the prompt, seed and output folder."""

    backends: BackendNames = field(default_factory=BackendNames)
    height: int = 64                # view size in pixels (configs/text3d/default.yaml: 256, through the cascade)
    width: int = 64
    size_multiple: int = 8          # view sizes must be multiples of this (UNet down-sampling)
    min_size: int = 16
    max_size: int = 1024
    steps: StepsConfig = field(default_factory=StepsConfig)
    depth_samples: int = 2          # DepthGen samples per view (median; std = uncertainty)
    # embedded text-to-image only: where sampling starts. None = the model's saved default (a retrieved
    # training layout noised to 0.5 of the schedule); 1 = pure noise (the UNet alone); (0, 1) = that strength
    t2i_layout_strength: float | None = None
    # prompt-guided inpainting (embedded text inpainting, Stable Diffusion): classifier-free guidance scale of
    # the new content of each view; None = the model's own default (embedded 6.0, Stable Diffusion 7.5)
    inpaint_guidance: float | None = None
    # embedded text inpainting only: where the hole's sampling starts. None = the model's saved default (a
    # training layout retrieved by the prompt, noised to 0.6 of the schedule); 1 = pure noise; (0, 1) = that
    inpaint_layout_strength: float | None = None
    depth_completion: str = "complete"  # complete | align
    trajectory: TrajectoryConfig = field(default_factory=TrajectoryConfig)
    lift: LiftConfig = field(default_factory=LiftConfig)
    cleanup: CleanupConfig = field(default_factory=CleanupConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    video: VideoConfig = field(default_factory=VideoConfig)
    sr: SRConfig = field(default_factory=SRConfig)


def base_size(cfg: Text3DConfig) -> tuple[int, int]:
    """(H, W) pixels the text-to-image, inpainting and depth models work at: the view size, divided by
    ``sr.scale`` when the super-resolution cascade is on."""
    if not cfg.sr.enabled:
        return cfg.height, cfg.width
    return cfg.height // cfg.sr.scale, cfg.width // cfg.sr.scale


def validate_sr(cfg: Text3DConfig) -> None:
    """Raise ValueError naming the first super-resolution setting out of range."""
    sr = cfg.sr
    if not sr.enabled:
        return
    if sr.scale < 2:
        raise ValueError(f"sr.scale must be at least 2, got {sr.scale}")
    m = cfg.size_multiple
    if cfg.height % (sr.scale * m) or cfg.width % (sr.scale * m):
        raise ValueError(f"with sr.scale {sr.scale} the view size {cfg.width}x{cfg.height} must be a multiple of "
                         f"{sr.scale * m} (the base models' size a multiple of {m})")
    if min(base_size(cfg)) < cfg.min_size:
        raise ValueError(f"with sr.scale {sr.scale} the base size {base_size(cfg)[1]}x{base_size(cfg)[0]} is "
                         f"below {cfg.min_size}; use a larger view size or a smaller sr.scale")
    if not isinstance(sr.model, str) or not sr.model.strip():
        raise ValueError("sr.model is empty; give 'embedded' or a saved super-resolution folder")
    if sr.steps < 1:
        raise ValueError(f"sr.steps must be at least 1, got {sr.steps}")
    if sr.level is not None and not 0 <= sr.level <= 1:
        raise ValueError(f"sr.level must be in [0, 1] or null, got {sr.level}")
    if sr.blend_band < 0 or sr.depth_radius < 1 or sr.depth_sigma_spatial <= 0 or sr.depth_sigma_range <= 0:
        raise ValueError("sr.blend_band must be >= 0, sr.depth_radius >= 1 and the depth sigmas > 0")


def preset_names() -> list[str]:
    """Names of the presets in ``configs/text3d/``."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    """Path of a preset given by name (``default``) or as a path to a YAML file."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        return candidate
    path = CONFIG_DIR / f"{name}.yaml"
    if not name or "/" in name or not path.is_file():
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(preset_names())} "
                         "or give a path to a YAML file")
    return path


def check_size(cfg: Text3DConfig, height: int, width: int) -> None:
    """Raise ValueError unless (height, width) is a view size the models can take."""
    m = cfg.size_multiple

    def near(side: int) -> int:
        return int(min(max(round(side / m) * m, cfg.min_size), cfg.max_size))

    for side in (height, width):
        if side < cfg.min_size or side > cfg.max_size or side % m:
            raise ValueError(f"size {width}x{height} is not usable; width and height must be multiples of {m} "
                             f"between {cfg.min_size} and {cfg.max_size} (e.g. {near(width)}x{near(height)})")


def _check_value(key: str, tp: Any, value: Any) -> None:
    """ValueError naming ``key``, ``value`` and what is allowed unless ``value`` is of type ``tp``: whole numbers
    for int (within ``INT_RANGES``), finite numbers for float, true/false for bool, text for str."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(tp):
            return
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if typing.get_origin(tp) is tuple:
        if not isinstance(value, (tuple, list)) or len(value) != len(typing.get_args(tp)):
            raise ValueError(f"{key}={value!r} is not allowed; give {len(typing.get_args(tp))} numbers")
        for i, (inner, v) in enumerate(zip(typing.get_args(tp), value)):
            _check_value(f"{key}[{i}]", inner, v)
        return
    if tp is bool:
        ok, allowed = isinstance(value, bool), "true or false"
    elif tp is int:
        lo, hi = INT_RANGES.get(key, (0, 2**31 - 1))
        ok, allowed = isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi, \
            f"a whole number within {lo}..{hi}"
    elif tp is float:
        ok, allowed = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
            and abs(value) <= 1e6, "a finite number (at most 1e6 in size)"
    elif tp is str:
        ok, allowed = isinstance(value, str), "text"
    else:
        return
    if not ok:
        raise ValueError(f"{key}={value!r} is not allowed; give {allowed}")


def check_types(config: Any, prefix: str = "") -> None:
    """Check every setting of a config dataclass against its field's type (``_check_value``), nested ones too."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        value, key = getattr(config, f.name), f"{prefix}{f.name}"
        if dataclasses.is_dataclass(hints[f.name]):
            if not dataclasses.is_dataclass(value):
                raise ValueError(f"{key} is a group of settings, not a value; set {key}.<name>=VALUE")
            check_types(value, f"{key}.")
        else:
            _check_value(key, hints[f.name], value)


def validate(cfg: Text3DConfig) -> Text3DConfig:
    """Raise ValueError naming the first setting of the wrong type or out of range; return ``cfg``."""
    check_types(cfg)
    check_size(cfg, cfg.height, cfg.width)
    if cfg.trajectory.views < 1:
        raise ValueError(f"views must be at least 1, got {cfg.trajectory.views}")
    for name, value in vars(cfg.steps).items():
        if int(value) < 1:
            raise ValueError(f"steps.{name} must be at least 1, got {value}")
    if cfg.depth_samples < 1:
        raise ValueError(f"depth_samples must be at least 1, got {cfg.depth_samples}")
    for name in ("t2i_layout_strength", "inpaint_layout_strength"):
        value = getattr(cfg, name)
        if value is not None and not (isinstance(value, (int, float)) and 0 < value <= 1):
            raise ValueError(f"{name} must be in (0, 1] (1 = start from pure noise) or null, got {value}")
    g = cfg.inpaint_guidance
    if g is not None and not (isinstance(g, (int, float)) and not isinstance(g, bool) and math.isfinite(g) and g >= 0):
        raise ValueError(f"inpaint_guidance must be a number >= 0 (0 ignores the prompt) or null, "
                         f"got {cfg.inpaint_guidance}")
    if cfg.depth_completion not in ("complete", "align"):
        raise ValueError(f"depth_completion must be 'complete' or 'align', got {cfg.depth_completion!r}")
    if cfg.fusion.method not in ("mesh", "tsdf"):
        raise ValueError(f"fusion.method must be 'mesh' or 'tsdf', got {cfg.fusion.method!r}")
    if cfg.lift.max_depth_ratio < 0 or 0 < cfg.lift.max_depth_ratio < 1:
        raise ValueError(f"lift.max_depth_ratio must be 0 (no cap) or at least 1, got {cfg.lift.max_depth_ratio}")
    if not 0 <= cfg.fusion.min_component_fraction < 1:
        raise ValueError(f"fusion.min_component_fraction must be within [0, 1), got {cfg.fusion.min_component_fraction}")
    if cfg.fusion.tsdf_voxel < 0 or cfg.fusion.tsdf_trunc_voxels <= 0:
        raise ValueError(f"fusion.tsdf_voxel must be >= 0 (0 = automatic) and fusion.tsdf_trunc_voxels > 0, got "
                         f"{cfg.fusion.tsdf_voxel} and {cfg.fusion.tsdf_trunc_voxels}")
    if cfg.lift.mesh_stride < 1:
        raise ValueError(f"lift.mesh_stride must be at least 1, got {cfg.lift.mesh_stride}")
    if cfg.cleanup.views < 0:
        raise ValueError(f"cleanup.views must be 0 or more, got {cfg.cleanup.views}")
    if cfg.video.enabled and (cfg.video.frames < 2 or cfg.video.fps < 1 or min(cfg.video.height, cfg.video.width) < 16):
        raise ValueError("video needs frames >= 2, fps >= 1 and a size of at least 16x16")
    if cfg.video.enabled and (cfg.video.height % 2 or cfg.video.width % 2):
        raise ValueError(f"video size {cfg.video.width}x{cfg.video.height} must be even (H.264)")
    if not 1.0 <= cfg.trajectory.fov_deg <= 170.0:
        raise ValueError(f"trajectory.fov_deg must be within 1..170, got {cfg.trajectory.fov_deg}")
    validate_sr(cfg)
    return cfg


def load_preset(name: str = "default", overrides: Sequence[str] = ()) -> Text3DConfig:
    """Load and validate a preset by name or path, with ``key=value`` overrides."""
    from depthgen.common.config import load_config

    return validate(load_config(Text3DConfig, preset_path(name), overrides))


def inpaint_options(cfg: "Text3DConfig") -> dict[str, float]:
    """The inpainting backend's keyword options a preset sets: ``guidance_scale`` (``inpaint_guidance``) and
    ``layout_strength`` (``inpaint_layout_strength``), each only when set (None keeps the model's default)."""
    options = {"guidance_scale": cfg.inpaint_guidance, "layout_strength": cfg.inpaint_layout_strength}
    return {k: v for k, v in options.items() if v is not None}
