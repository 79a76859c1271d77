"""A run's inputs, checked and resolved before any model loads: the prompt and seed, the settings (a preset with
``key=value`` overrides and the call's explicit settings), a photo and its view size, the trajectory, the backends with what they must take. User
mistakes raise ValueError with one line saying what to fix.
"""

from __future__ import annotations

import re
import struct
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from text3d.backends.loading import Backends, load_backends
from text3d.backends.protocols import capabilities_of
from text3d.config import MAX_VIEWS, PHOTO_MAX_PIXELS, TRAJECTORY_PRESETS, Text3DConfig, validate
from text3d.run.manifest import Timings
from text3d.run.seeds import MAX_SEED
from text3d.run.trajectory import Segment, check_overlap, resolve_trajectory


def slugify(text: str, limit: int = 40) -> str:
    """Lower-case, ASCII letters/digits and single dashes: 'A cozy library!' -> 'a-cozy-library'."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug[:limit].rstrip("-")) or "scene"


@dataclass
class Photo:
    """A checked photo: ``image`` an 8-bit RGB ``PIL.Image`` (EXIF orientation applied) and ``frames`` the
    number of frames of the file (of an animation, the first is used)."""

    image: Any
    frames: int = 1

    def note(self, name: str) -> str:
        """The line a run from an animation prints as it starts (after every check)."""
        return f"note: {name} is animated ({self.frames} frames); using its first frame"


def read_photo(image: str | Path | np.ndarray) -> Photo:
    """A photo (file path, or an (H, W, 3|4) uint8 or float [0, 1] array), checked and converted: EXIF
    orientation applied, 16-bit and greyscale scaled to 8-bit RGB, an animation's first frame; photos over
    ``PHOTO_MAX_PIXELS`` are refused from the header, before decoding."""
    from PIL import Image, ImageOps

    if isinstance(image, np.ndarray):
        a = image
        if a.ndim != 3 or a.shape[2] not in (3, 4) or min(a.shape[:2]) < 1:
            raise ValueError(f"image array must be (H, W, 3), got shape {a.shape}")
        a = a[..., :3]
        a = a.astype(np.uint8) if a.dtype == np.uint8 else (
            np.clip(np.nan_to_num(a.astype(np.float32)), 0, 1) * 255).astype(np.uint8)
        return Photo(Image.fromarray(a))
    Image.MAX_IMAGE_PIXELS = PHOTO_MAX_PIXELS  # PIL refuses twice this itself, from the header
    with _reading(image):
        im = Image.open(image)                   # reads the header: the size is known before decoding
    with im:
        w, h = im.size
        if w * h > PHOTO_MAX_PIXELS:
            raise ValueError(f"image {image} is too large ({w}x{h}), the limit is {PHOTO_MAX_PIXELS:,} pixels")
        with _reading(image):
            frames = getattr(im, "n_frames", 1)
            im.seek(0)
            im.load()
            im = ImageOps.exif_transpose(im)
    return Photo(to_rgb8(im), frames)


@contextmanager
def _reading(image: str | Path) -> Iterator[None]:
    """PIL reading ``image``: what its decoders raise on a file they cannot read (these, and ValueError) as a
    one-line ValueError; its warnings on odd files (corrupt EXIF) silenced."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except Image.DecompressionBombError as e:
        pixels = re.search(r"\((\d+) pixels\)", str(e))
        size = f"{int(pixels.group(1)):,} pixels" if pixels else "over twice the limit"
        raise ValueError(f"image {image} is too large ({size}), the limit is {PHOTO_MAX_PIXELS:,} pixels") from None
    except (OSError, ValueError, UnidentifiedImageError, SyntaxError, EOFError, TypeError, KeyError, IndexError,
            struct.error, ZeroDivisionError, AttributeError) as e:
        raise ValueError(f"cannot read image {image} ({e.__class__.__name__}); give a readable PNG or JPEG file") from None


def to_rgb8(im):
    """An 8-bit RGB ``PIL.Image`` of any mode: 16- and 32-bit integer and float greyscale scaled by their range
    (I;16: 65535 = white; I: 255 or 65535 by its largest value; F: 1.0 or its largest finite value)."""
    from PIL import Image

    if im.mode.startswith("I") or im.mode == "F":
        with np.errstate(invalid="ignore"):           # a float image's signalling NaNs
            a = np.asarray(im).astype(np.float64)
        top = 65535.0 if im.mode.startswith("I;16") else 1.0 if im.mode == "F" else 255.0
        peak = a[np.isfinite(a)].max(initial=0.0)   # NaN is black, +inf white, neither sets the range
        if peak > top:
            top = 65535.0 if im.mode == "I" and peak <= 65535 else float(peak)
        grey = (np.clip(np.nan_to_num(a / top), 0, 1) * 255 + 0.5).astype(np.uint8)
        return Image.fromarray(np.stack([grey] * 3, -1))
    return im.convert("RGB")


def load_image(pil, height: int, width: int) -> np.ndarray:
    """A photo (an RGB ``PIL.Image``: ``read_photo(...).image``) as the first view: centre-cropped to the view aspect
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
    to ``text3d.run.upscale.PHOTO_MAX_SIDE`` px on its longer side (``photo_view_size``); else the preset's."""
    from text3d.run.upscale import photo_view_size

    cfg.height, cfg.width = photo_view_size(photo_hw, cfg)
    validate(cfg)


def resolve_config(preset: str, trajectory: str | None, views: int | None, steps: int | None,
                   size: tuple[int, int] | None, overrides: Sequence[str]) -> Text3DConfig:
    """The preset with ``key=value`` overrides, then the call's explicit settings, validated.

    size is (H, W) pixels (the command line's ``--size WxH`` is parsed to it). Explicit settings are set as attributes (not parsed as YAML),
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
            raise ValueError(f"size must be (height, width), got {size!r}")
        cfg.height, cfg.width = whole(size[0], "height"), whole(size[1], "width")
    return validate(cfg)


def check_prompt(prompt: str | None, image: str | Path | np.ndarray | None, seed: int) -> str:
    """The stripped prompt ('' for a photo without one); ValueError for an empty prompt without a photo or a
    bad seed."""
    if image is None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError('the prompt is empty; give a text prompt such as "a cozy library" (or an image)')
    elif prompt is not None and not isinstance(prompt, str):
        raise ValueError("the prompt must be a string")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be a whole number within 0..{MAX_SEED} (2**63 - 1), got {seed!r}")
    return (prompt or "").strip()


def run_segments(cfg: Text3DConfig, views: int | None, fov_deg: float) -> list[Segment]:
    """The trajectory's segments, with consecutive views checked to overlap at the run's horizontal field of
    view ``fov_deg`` (degrees)."""
    if views is not None and cfg.trajectory.name not in TRAJECTORY_PRESETS:
        raise ValueError("views applies to preset trajectories; set views per segment in the trajectory file")
    segments = resolve_trajectory(cfg.trajectory.name, cfg.trajectory.views)
    if sum(s.views for s in segments) > MAX_VIEWS:
        raise ValueError(f"the trajectory has {sum(s.views for s in segments)} views; the limit is {MAX_VIEWS}")
    check_overlap(segments, cfg.trajectory, fov_deg)
    return segments


def run_backends(cfg: Text3DConfig, backends: Backends | None, preset: str, names: dict[str, str | None],
                 device: str, timings: Timings, need_t2i: bool) -> Backends:
    """``backends`` or, when None, the models ``names`` (t2i, inpaint, depth; None = the preset's) loaded on
    ``device``; ValueError when a setting of ``cfg`` needs a model these backends lack."""
    if backends is None:
        with timings("load"):
            backends = load_backends(preset, **{k: v or getattr(cfg.backends, k) for k, v in names.items()},
                                     device=device, need_t2i=need_t2i)
    check_capabilities(cfg, backends, need_t2i)
    return backends


def check_capabilities(cfg: Text3DConfig, backends: Backends, need_t2i: bool) -> None:
    """ValueError when a setting of ``cfg`` needs a keyword the backends do not declare (``Capabilities``)."""
    t2i = capabilities_of(backends.t2i) if need_t2i else None
    inpaint = capabilities_of(backends.inpaint)
    if cfg.t2i_layout_strength is not None and t2i is not None and not t2i.layout_strength:
        raise ValueError(f"t2i_layout_strength applies to the embedded text-to-image model only, not to "
                         f"{backends.t2i.name!r}; leave it unset")
    if cfg.inpaint_guidance is not None and not inpaint.guidance:
        raise ValueError(f"inpaint_guidance needs a prompt-guided inpainting model; {backends.inpaint.name!r} "
                         "takes no guidance, so leave inpaint_guidance unset")
    if cfg.inpaint_layout_strength is not None and not inpaint.layout_strength:
        raise ValueError(f"inpaint_layout_strength applies to the embedded text inpainting model only, not to "
                         f"{backends.inpaint.name!r}; leave it unset")
