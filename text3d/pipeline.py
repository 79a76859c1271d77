"""``generate``: prompt (or photo) -> first view -> trajectory views -> hole clean-up -> fused mesh -> files.

The Python API behind the CLI and the UI (docs/ARCHITECTURE.md, "text3d Python API"). Inputs are checked
before any model loads; user mistakes raise ValueError with one line saying what to fix.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from depthgen.models.camera import focal_to_fov, photo_focal_px
from text3d.backends.depth import with_camera
from text3d.config import Text3DConfig, validate
from text3d.loading import Backends, load_backends, resolve_device
from text3d.manifest import Timings, record_camera
from text3d.progress import ProgressFn
from text3d.result import Text3DResult


def slugify(text: str, limit: int = 40) -> str:
    """Lower-case, ASCII letters/digits and single dashes: 'A cozy library!' -> 'a-cozy-library'."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug[:limit].rstrip("-")) or "scene"


def prepare_out_dir(out_dir: str | Path | None, name: str, seed: int) -> tuple[Path, list[Path]]:
    """Create the output folder (default ``outputs/<slug>-<seed>``) and check that it is writable.

    Returns the folder and the folders this call created (deepest last), so a failed run can remove them.
    """
    path = Path(out_dir) if out_dir is not None else Path("outputs") / f"{slugify(name)}-{seed}"
    created = [p for p in [*reversed(path.parents), path, path / "views"] if not p.exists()]
    try:
        if path.exists() and not path.is_dir():
            raise ValueError(f"output path {path} is a file; give a folder with --out")
        path.mkdir(parents=True, exist_ok=True)
        (path / "views").mkdir(exist_ok=True)
        probe = path / f".write-test-{seed}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise ValueError(f"cannot write to output folder {path} ({e.strerror or e}); choose another --out") from None
    return path, created


def remove_empty(folders: Sequence[Path]) -> None:
    """Remove the given folders, deepest first, where they are (still) empty."""
    for folder in reversed(list(folders)):
        try:
            folder.rmdir()
        except OSError:
            pass


def read_photo(image: str | Path | np.ndarray):
    """A photo (file path, or an (H, W, 3|4) uint8 or float [0, 1] array) as an RGB ``PIL.Image``."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, np.ndarray):
        a = image
        if a.ndim != 3 or a.shape[2] not in (3, 4):
            raise ValueError(f"image array must be (H, W, 3), got shape {a.shape}")
        a = a[..., :3]
        a = a.astype(np.uint8) if a.dtype == np.uint8 else (np.clip(a.astype(np.float32), 0, 1) * 255).astype(np.uint8)
        return Image.fromarray(a)
    try:
        with Image.open(image) as im:
            return im.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise ValueError(f"cannot read image {image} ({e.__class__.__name__}); give a readable PNG or JPEG file") from None


def load_image(pil, height: int, width: int) -> np.ndarray:
    """A photo (an RGB ``PIL.Image``, from ``read_photo``) as the first view: centre-cropped to the view aspect
    and resized; (height, width, 3) float32 [0, 1]."""
    from PIL import Image

    w0, h0 = pil.size
    scale = min(w0 / width, h0 / height)
    cw, ch = width * scale, height * scale
    box = ((w0 - cw) / 2, (h0 - ch) / 2, (w0 + cw) / 2, (h0 + ch) / 2)
    pil = pil.resize((width, height), Image.Resampling.LANCZOS, box=box)
    return np.asarray(pil, dtype=np.float32) / 255.0


def fit_photo_size(cfg: Text3DConfig, photo_hw: tuple[int, int]) -> None:
    """Set the view size of a photo run: with the super-resolution cascade on, the photo's own resolution up
    to ``text3d.upscale.PHOTO_MAX_SIDE`` px on its longer side (``photo_view_size``); else the preset's."""
    from text3d.upscale import photo_view_size

    cfg.height, cfg.width = photo_view_size(photo_hw, cfg)
    validate(cfg)


FOV_RANGE = (1.0, 170.0)  # degrees: what text3d.cameras.intrinsics_from_fov accepts


def photo_fov_deg(image: str | Path | np.ndarray, height: int, width: int) -> float | None:
    """Horizontal field of view (degrees) of the view ``load_image`` makes from a photo file, from the photo's
    EXIF 35 mm-equivalent focal length and the centre crop to the view's aspect; None without one."""
    if isinstance(image, np.ndarray):
        return None
    found = photo_focal_px(image)
    if found is None:
        return None
    focal, (w0, h0) = found
    fov = focal_to_fov(focal, width * min(w0 / width, h0 / height))  # the crop's width in photo pixels
    return fov if FOV_RANGE[0] <= fov <= FOV_RANGE[1] else None


def resolve_fov(cfg: Text3DConfig, fov_deg: float | None, image: str | Path | np.ndarray | None) -> dict:
    """Set ``cfg.trajectory.fov_deg`` to the run's field of view and return where it came from:
    ``user`` (``fov_deg``), ``exif`` (the photo's focal length), ``default`` (a photo without one: the
    preset's trajectory.fov_deg) or ``trajectory`` (a text prompt: the trajectory's camera paints the view)."""
    if fov_deg is not None:
        if isinstance(fov_deg, bool) or not isinstance(fov_deg, (int, float, np.integer, np.floating)) or not (
                FOV_RANGE[0] <= float(fov_deg) <= FOV_RANGE[1]):
            raise ValueError(f"--fov / fov_deg must be the horizontal field of view in degrees, {FOV_RANGE[0]:g} to "
                             f"{FOV_RANGE[1]:g}; got {fov_deg!r}")
        fov, source = float(fov_deg), "user"
    elif image is not None:
        exif = photo_fov_deg(image, cfg.height, cfg.width)
        fov, source = (exif, "exif") if exif is not None else (cfg.trajectory.fov_deg, "default")
    else:
        fov, source = cfg.trajectory.fov_deg, "trajectory"
    cfg.trajectory.fov_deg = float(fov)
    validate(cfg)
    return {"fov_deg": round(float(fov), 4), "source": source}


def resolve_config(preset: str, trajectory: str | None, views: int | None, steps: int | None,
                   size: tuple[int, int] | None, overrides: Sequence[str]) -> Text3DConfig:
    """The preset with ``key=value`` overrides, then the call's explicit settings, validated.

    size is (W, H) as on the command line. Explicit settings are set as attributes (not parsed as YAML),
    so a trajectory path may hold any character.
    """
    from depthgen.common.config import load_config
    from text3d.config import preset_path

    def whole(value, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) and not (
                isinstance(value, float) and value.is_integer()):
            raise ValueError(f"{what} must be a whole number, got {value!r}")
        if int(value) < 1:
            raise ValueError(f"{what} must be at least 1, got {value}")
        return int(value)

    cfg = load_config(Text3DConfig, preset_path(preset), list(overrides))
    if trajectory is not None:
        if not isinstance(trajectory, str) or not trajectory.strip():
            raise ValueError("the trajectory is empty; use orbit, walk, zoom-out or a segment file")
        cfg.trajectory.name = trajectory.strip()
    if views is not None:
        cfg.trajectory.views = whole(views, "views")
    if steps is not None:
        n = whole(steps, "steps")
        cfg.steps.t2i = cfg.steps.inpaint = cfg.steps.depth = n
    if size is not None:
        if len(size) != 2:
            raise ValueError(f"size must be (width, height), got {size!r}")
        cfg.width, cfg.height = whole(size[0], "width"), whole(size[1], "height")
    return validate(cfg)


def check_prompt(prompt: str | None, image: str | Path | np.ndarray | None, seed: int) -> str:
    """The stripped prompt ('' for a photo without one); ValueError for an empty prompt without a photo or a
    bad seed."""
    if image is None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError('the prompt is empty; give a text prompt such as "a cozy library" (or an image)')
    elif prompt is not None and not isinstance(prompt, str):
        raise ValueError("the prompt must be a string")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    return (prompt or "").strip()


def run_segments(cfg: Text3DConfig, views: int | None) -> list:
    """The trajectory's segments (``text3d.trajectory.Segment``), with consecutive views checked to overlap."""
    from text3d.trajectory import check_overlap, resolve_trajectory

    if views is not None and cfg.trajectory.name not in ("orbit", "walk", "zoom-out"):
        raise ValueError("views applies to preset trajectories; set views per segment in the trajectory file")
    segments = resolve_trajectory(cfg.trajectory.name, cfg.trajectory.views)
    check_overlap(segments, cfg.trajectory)
    return segments


def run_backends(cfg: Text3DConfig, backends: Backends | None, preset: str, names: dict[str, str | None],
                 device: str, timings: Timings, need_t2i: bool) -> Backends:
    """``backends`` or, when None, the models ``names`` (t2i, inpaint, depth; None = the preset's) loaded on
    ``device``; ValueError when a setting of ``cfg`` needs a model these backends lack."""
    if backends is None:
        with timings("load"):
            backends = load_backends(preset, **{k: v or getattr(cfg.backends, k) for k, v in names.items()},
                                     device=device, need_t2i=need_t2i)
    if cfg.t2i_layout_strength is not None and need_t2i and not getattr(backends.t2i, "takes_layout_strength", False):
        raise ValueError(f"t2i_layout_strength applies to the embedded text-to-image model only, not to "
                         f"{backends.t2i.name!r}; leave it unset")
    if cfg.inpaint_guidance is not None and not getattr(backends.inpaint, "takes_guidance", False):
        raise ValueError(f"inpaint_guidance needs a prompt-guided inpainting model; {backends.inpaint.name!r} "
                         "takes no guidance, so leave inpaint_guidance unset")
    if cfg.inpaint_layout_strength is not None and not getattr(backends.inpaint, "takes_layout_strength", False):
        raise ValueError(f"inpaint_layout_strength applies to the embedded text inpainting model only, not to "
                         f"{backends.inpaint.name!r}; leave it unset")
    return backends


def generate(prompt: str | None = "a cozy library", *, image: str | Path | np.ndarray | None = None,
             out_dir: str | Path | None = None, preset: str = "default", trajectory: str | None = None,
             views: int | None = None, seed: int = 0, steps: int | None = None, size: tuple[int, int] | None = None,
             t2i: str | None = None, inpaint: str | None = None, depth: str | None = None, device: str = "auto",
             progress: ProgressFn | None = None, backends: Backends | None = None,
             overrides: Sequence[str] = (), progress_bars: bool = False, fov_deg: float | None = None) -> Text3DResult:
    """Generate a walkable 3D scene from a prompt (or a photo) and write it to ``out_dir``.

    trajectory/views/steps/size (W, H) default to the preset's; a photo without ``size`` keeps its own
    resolution up to ``text3d.upscale.PHOTO_MAX_SIDE`` (512) px on its longer side when the preset
    super-resolves (``fit_photo_size``);
    ``overrides`` are extra ``key=value`` preset settings; ``fov_deg``: the horizontal field of view (1-170
    degrees) of every view and of the depth model's input; None: a photo's EXIF 35 mm-equivalent focal length
    when it has one, else the preset's ``trajectory.fov_deg`` (60 degrees in the shipped presets);
    manifest.json's ``camera`` says which was used and where it came from (user / exif / default /
    trajectory); ``backends`` reuses loaded models (the name arguments are then ignored);
    ``progress(stage, fraction_of_run)`` is called as work proceeds; ``progress_bars`` shows tqdm bars.
    """
    from text3d.stages import run_stages

    prompt = check_prompt(prompt, image, seed)
    cfg = resolve_config(preset, trajectory, views, steps, size, overrides)
    photo = read_photo(image) if image is not None else None
    if photo is not None and size is None:
        fit_photo_size(cfg, (photo.height, photo.width))
    camera = resolve_fov(cfg, fov_deg, image)
    segments = run_segments(cfg, views)
    first = load_image(photo, cfg.height, cfg.width) if photo is not None else None
    dev = resolve_device(device)
    if prompt:
        name = prompt
    else:
        name = "image" if isinstance(image, np.ndarray) else Path(str(image)).stem
    if backends is not None and first is None and backends.t2i is None:
        raise ValueError("these backends have no text-to-image model; give an image or load one")
    out, created = prepare_out_dir(out_dir, name, seed)
    timings = Timings()
    try:
        backends = run_backends(cfg, backends, preset, {"t2i": t2i, "inpaint": inpaint, "depth": depth}, dev,
                                timings, need_t2i=first is None)
    except BaseException:
        remove_empty(created)       # a run that could not start leaves no empty folders behind
        raise
    backends = dataclasses.replace(backends, depth=with_camera(backends.depth, cfg.trajectory.fov_deg))
    result = run_stages(cfg=cfg, backends=backends, segments=segments, prompt=prompt, first_image=first,
                        image_name=None if image is None or isinstance(image, np.ndarray) else str(image),
                        seed=seed, out=out, timings=timings, progress_fn=progress, progress_bars=progress_bars)
    camera["depth_uses_fov"] = bool(getattr(backends.depth, "uses_camera", False))
    record_camera(result.paths["manifest"], result.manifest, camera)
    return result
