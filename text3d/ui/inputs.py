"""Checks of what a visitor sent, before any work starts; each failure is a one-line ``ValueError``.

Why separate from the handler: these are pure functions of the request and the limits, easy to test, and
the same message reaches the browser (as ``gr.Error``) and API clients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from text3d.ui.settings import UISettings

MAX_PROMPT_CHARS = 500
MAX_SEED = 2**31 - 1


@dataclass
class Request:
    """One validated request. views/steps/layout_strength None keep the preset's (model's) values; image is
    a readable photo path."""

    prompt: str
    image: Path | None
    preset: str
    trajectory: str
    views: int | None
    seed: int
    steps: int | None
    layout_strength: float | None = None  # embedded text-to-image model: (0, 1], 1 = from pure noise

    def overrides(self) -> tuple[str, ...]:
        """The ``text3d.generate_scene`` preset overrides this request asks for."""
        return () if self.layout_strength is None else (f"t2i_layout_strength={self.layout_strength:g}",)


def _whole(value, name: str) -> int:
    """A whole number from a UI number field (which may send floats or None)."""
    if value is None or value == "":
        raise ValueError(f"{name} is empty; enter a whole number")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if not math.isfinite(f) or f != int(f):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(f)


def _fraction(value, name: str) -> float:
    """A number in [0, 1] from a UI slider (None or empty = 0)."""
    if value is None or value == "":
        return 0.0
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}") from None
    if not (math.isfinite(f) and 0.0 <= f <= 1.0):
        raise ValueError(f"{name} must be between 0 and 1 (0 keeps the model's default), got {value!r}")
    return f


def human_size(nbytes: float) -> str:
    """1536 -> '1.5 KB', 10485760 -> '10 MB' (binary units, as file browsers show them)."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "bytes" or nbytes == int(nbytes) else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    raise AssertionError("unreachable")


def check_image(path: str | Path, settings: UISettings) -> Path:
    """Return ``path`` if it is an image file within the size limits; else a ValueError saying why."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise ValueError("the uploaded file could not be found; upload the photo again") from None
    if size > settings.max_upload_bytes:
        raise ValueError(f"the photo is too large ({human_size(size)}); "
                         f"upload one of at most {human_size(settings.max_upload_bytes)}")
    if size == 0:
        raise ValueError("the uploaded file is empty; upload a PNG or JPEG photo")
    try:
        with Image.open(path) as im:         # reads the header only: the pixel count is known before decoding
            w, h = im.size
            if w * h > settings.max_upload_pixels:
                raise ValueError(f"the photo is too large ({w}x{h} pixels); upload one of at most "
                                 f"{settings.max_upload_pixels / 1e6:.0f} megapixels")
            im.load()                         # decode fully: catches truncated or corrupt files
    except ValueError:
        raise
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, SyntaxError):
        raise ValueError("the uploaded file is not a readable image; upload a PNG or JPEG photo") from None
    return path


def check_request(prompt: str | None, image: str | Path | None, preset: str | None, trajectory: str | None,
                  views, seed, steps, settings: UISettings, layout_strength=None) -> Request:
    """Validate one form submission against the settings' limits.

    views/steps/layout_strength of 0 (or None) mean "the preset's (model's) value"; a prompt is required
    unless a photo is given.
    """
    if prompt is not None and not isinstance(prompt, str):
        raise ValueError("the prompt must be text")
    prompt = (prompt or "").strip()
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ValueError(f"the prompt is too long ({len(prompt)} characters); keep it under {MAX_PROMPT_CHARS}")
    photo = check_image(image, settings) if image else None
    if photo is None and not prompt:
        raise ValueError('the prompt is empty; type a prompt such as "a cozy library", or upload a photo')
    preset = preset or settings.default_preset
    if preset not in settings.presets:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(settings.presets)}")
    trajectory = trajectory or settings.trajectories[0]
    if trajectory not in settings.trajectories:
        raise ValueError(f"unknown trajectory {trajectory!r}; choose one of {', '.join(settings.trajectories)}")
    n_views = _whole(0 if views is None else views, "views")
    if not 0 <= n_views <= settings.max_views:
        raise ValueError(f"views must be between 1 and {settings.max_views} (0 keeps the preset's), got {n_views}")
    n_steps = _whole(0 if steps is None else steps, "steps")
    if not 0 <= n_steps <= settings.max_steps:
        raise ValueError(f"steps must be between 1 and {settings.max_steps} (0 keeps the preset's), got {n_steps}")
    seed_i = _whole(seed, "seed")
    if not 0 <= seed_i <= MAX_SEED:
        raise ValueError(f"seed must be between 0 and {MAX_SEED}, got {seed_i}")
    strength = _fraction(layout_strength, "layout strength")
    return Request(prompt=prompt, image=photo, preset=preset, trajectory=trajectory, views=n_views or None,
                   seed=seed_i, steps=n_steps or None, layout_strength=strength or None)
