"""Image / depth input normalisation and small file helpers.

``as_rgb`` accepts what the pipelines accept: a PIL image, an (H, W, 3) uint8 or float [0, 1] array, a
(3, H, W) torch tensor in [0, 1], or a path; returns (H, W, 3) float32 in [0, 1]. Depth files: ``.npy``
(float metres) or 16-bit PNG in millimetres.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def read_depth(path: str | Path) -> np.ndarray:
    """(H, W) float32 metres from ``.npy`` or a 16-bit PNG in millimetres (0 = invalid)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"depth file not found: {p}")
    if p.suffix == ".npy":
        return np.load(p).astype(np.float32)
    import cv2

    raw = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    if raw is None or raw.dtype != np.uint16:
        raise ValueError(f"{p} is not a 16-bit depth PNG")
    return raw.astype(np.float32) / 1000.0


def write_depth(path: str | Path, depth: np.ndarray) -> None:
    """Save (H, W) metres as ``.npy`` or 16-bit PNG millimetres (temp name, then rename)."""
    p = Path(path)
    tmp = p.with_name(".tmp-" + p.name)
    if p.suffix == ".npy":
        with open(tmp, "wb") as f:
            np.save(f, np.asarray(depth, np.float32))
    else:
        import cv2

        mm = np.clip(np.nan_to_num(np.asarray(depth)) * 1000.0, 0, 65535).round().astype(np.uint16)
        if not cv2.imwrite(str(tmp), mm):
            raise ValueError(f"cannot write depth image {p}")
    tmp.replace(p)


def colorize_depth(depth: np.ndarray, d_min: float | None = None, d_max: float | None = None) -> np.ndarray:
    """(H, W) metres -> (H, W, 3) uint8 turbo colour map (near = red), invalid (<= 0) black."""
    import cv2

    d = np.asarray(depth, np.float32)
    ok = np.isfinite(d) & (d > 0)
    if not ok.any():
        return np.zeros((*d.shape, 3), np.uint8)
    lo = float(d[ok].min()) if d_min is None else d_min
    hi = float(d[ok].max()) if d_max is None else d_max
    inv = np.where(ok, (1.0 / np.maximum(d, 1e-6) - 1.0 / hi) / max(1.0 / lo - 1.0 / hi, 1e-9), 0)
    u8 = (np.clip(inv, 0, 1) * 255).astype(np.uint8)
    rgb = cv2.applyColorMap(u8, cv2.COLORMAP_TURBO)[..., ::-1].copy()
    rgb[~ok] = 0
    return rgb
