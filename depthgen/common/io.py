"""Image input normalisation and the project's one way to write files, store depth and colour it.

``as_rgb`` accepts what the pipelines accept: a PIL image, an (H, W, 3) uint8 or float [0, 1] array, a
(3, H, W) torch tensor in [0, 1], or a path; returns (H, W, 3) float32 in [0, 1].

Files: every output is written under a temporary name beside its target, then renamed over it
(``atomic_path`` for a file, ``atomic_dir`` for a folder), so an interrupted run leaves no half-written file.
Depth files: 16-bit PNG, ``round(depth * depth_scale)`` (1000 = millimetres), 0 = invalid.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch


def as_rgb(image: Any, name: str = "image") -> np.ndarray:
    """Normalise an image to (H, W, 3) float32 in [0, 1]; bad input -> one-line ValueError."""
    if isinstance(image, (str, Path)):
        p = Path(image)
        if not p.is_file():
            raise ValueError(f"{name} file not found: {p}")
        from PIL import Image

        image = Image.open(p)
    if hasattr(image, "convert") and hasattr(image, "size"):  # PIL
        image = np.asarray(image.convert("RGB"))
    if isinstance(image, torch.Tensor):
        t = image.detach().cpu()
        if t.ndim != 3 or t.shape[0] != 3:
            raise ValueError(f"{name} tensor must be (3, H, W), got shape {tuple(t.shape)}")
        image = t.permute(1, 2, 0).float().numpy()
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"{name} must be (H, W, 3) RGB, got shape {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"{name} is empty: shape {a.shape}")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    a = a.astype(np.float32)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf values")
    if a.min() < -1e-3 or a.max() > 1 + 1e-3:
        raise ValueError(f"{name} float values must be in [0, 1], got range [{a.min():.3g}, {a.max():.3g}]")
    return np.clip(a, 0.0, 1.0)


def as_images(images: Any, name: str = "image") -> tuple[list[np.ndarray], bool]:
    """A single image or a list/tuple of images -> (list of (H, W, 3) float32, was_batch)."""
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError(f"{name} list is empty")
        return [as_rgb(im, f"{name}[{i}]") for i, im in enumerate(images)], True
    return [as_rgb(images, name)], False


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary file path beside ``path`` with the same suffix; rename it to ``path`` on success.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | Path, keep: Sequence[str] = ()) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success it replaces ``path`` (an old folder there is
    removed). On an exception the temporary folder is removed and ``path`` is left as it was.

    keep: names of files that an old folder at ``path`` holds and the new one keeps, over what was written (a
    model card edited by hand, ``README.md``, survives a re-export)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    old = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.old")
    tmp.mkdir()
    try:
        yield tmp
        for name in keep:
            if (path / name).is_file():
                shutil.copy2(path / name, tmp / name)
        if path.exists():
            path.rename(old)
        tmp.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def weights_mb(folder: str | Path) -> float:
    """Size in MB (1e6 bytes) of the safetensors weights under ``folder`` (0 when it holds none or is missing)."""
    return sum(f.stat().st_size for f in Path(folder).rglob("*.safetensors")) / 1e6


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Atomically write ``data`` to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, data: Any, indent: int | None = 2, allow_nan: bool = True) -> Path:
    """Atomically write ``data`` as JSON (indented, with a final newline); ``allow_nan=False``: strict JSON
    (NaN or inf raise ValueError)."""
    return write_text(path, json.dumps(data, indent=indent, allow_nan=allow_nan) + "\n")


def write_safetensors(path: str | Path, tensors: dict, metadata: dict[str, str] | None = None) -> Path:
    """Atomically write ``tensors`` (name -> torch tensor, made contiguous) with string ``metadata`` to a
    safetensors file, creating its folder."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp), metadata=metadata)
    return path


def read_safetensors(path: str | Path) -> tuple[dict, dict[str, str]] | None:
    """(tensors, metadata) of a safetensors file, or None when there is no file at ``path``."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        return None
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata() or {})


def depth_to_uint16(depth: np.ndarray, depth_scale: float = 1000.0) -> np.ndarray:
    """(H, W) float metres -> (H, W) uint16 ``round(depth * depth_scale)``; invalid (<= 0, NaN, inf) -> 0.

    Depths beyond 65535 / depth_scale saturate: pick the scale for the range (1000 covers 65 m, 256 covers 255 m).
    """
    d = np.nan_to_num(np.asarray(depth, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(np.round(np.where(d > 0, d, 0.0) * depth_scale), 0, 65535).astype(np.uint16)


def write_depth_png(path: str | Path, depth: np.ndarray, depth_scale: float = 1000.0) -> Path:
    """Write (H, W) metres as a 16-bit PNG (``depth_to_uint16``), atomically."""
    import cv2

    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), depth_to_uint16(depth, depth_scale)):
            raise ValueError(f"cannot write {path}; check the folder exists and is writable")
    return Path(path)


def read_depth_png(path: str | Path, depth_scale: float = 1000.0) -> np.ndarray:
    """(H, W) float32 metres from a single-channel 8/16-bit PNG: value / depth_scale; 0 stays 0 (invalid)."""
    import cv2

    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise ValueError(f"cannot read depth map {path}; check that it is a valid 16-bit PNG")
    if raw.ndim != 2:
        raise ValueError(f"depth map {path} has {raw.shape[2]} channels; save depth as a single-channel 16-bit PNG")
    if raw.dtype not in (np.uint16, np.uint8):
        raise ValueError(f"depth map {path} has dtype {raw.dtype}; save depth as a 16-bit PNG")
    return (raw.astype(np.float32) / np.float32(depth_scale)).astype(np.float32)


SCALES = ("linear", "log", "inverse")


def colorize(values: np.ndarray, valid: np.ndarray | None = None, cmap: str = "turbo", vmin: float | None = None,
             vmax: float | None = None, scale: str = "linear") -> np.ndarray:
    """(H, W) float map (depth, uncertainty) -> (H, W, 3) uint8 through a matplotlib colour map.

    valid: (H, W) bool, default finite values; invalid pixels are black. vmin/vmax: the value range mapped
    onto the colour map (default the 2nd-98th percentile of the valid values). scale: how values are spaced
    along it: ``linear``, ``log`` (depth, near and far alike) or ``inverse`` (1 / value, the low end of the
    range at the top of the colour map: depth with near objects told apart, near = red for turbo).
    """
    import matplotlib

    if scale not in SCALES:
        raise ValueError(f"colour scale must be one of {SCALES}, got {scale!r}")
    values = np.asarray(values, dtype=np.float64)
    valid = np.isfinite(values) if valid is None else np.asarray(valid, bool) & np.isfinite(values)
    if scale != "linear":
        valid = valid & (values > 0)
    if not valid.any():
        return np.zeros(values.shape + (3,), np.uint8)
    lo = float(np.percentile(values[valid], 2)) if vmin is None else float(vmin)
    hi = float(np.percentile(values[valid], 98)) if vmax is None else float(vmax)
    if scale == "log":
        lo, hi = max(lo, 1e-6), max(hi, 1e-6)
        values, lo, hi = np.log(np.clip(values, lo, hi)), np.log(lo), np.log(hi)
    elif scale == "inverse":
        values, lo, hi = 1.0 / np.maximum(values, 1e-6), 1.0 / max(hi, 1e-6), 1.0 / max(lo, 1e-6)
    norm = np.clip((values - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
    rgb = matplotlib.colormaps[cmap](np.nan_to_num(norm))[..., :3]
    rgb[~valid] = 0.0
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def colorize_depth(depth: np.ndarray, d_min: float | None = None, d_max: float | None = None) -> np.ndarray:
    """(H, W) metres -> (H, W, 3) uint8, turbo on inverse depth (near = red), invalid (<= 0) black:
    ``colorize(depth, cmap="turbo", scale="inverse")`` over [d_min, d_max] (default the valid percentiles)."""
    return colorize(depth, None, "turbo", d_min, d_max, scale="inverse")
