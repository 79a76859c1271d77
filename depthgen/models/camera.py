"""Camera-aware depth: field of view <-> focal length, the canonical-camera transform (Metric3D), the
field-of-view conditioning value (DMD), field-of-view augmentation by crop / uncrop, and a photo's EXIF
focal length.

Why. An image alone does not fix metric scale: the same picture is a near room through a wide lens or a
far one through a narrow lens. Knowing the focal length removes that ambiguity, in one of two ways:
- canonical camera (Metric3D, Yin et al. 2023): train on depth labels rescaled to what one fixed camera
  would measure, ``d_c = d * f_c / f``; at inference scale the prediction back, ``d = d_c * f / f_c``. An
  object's apparent size ``X f / d`` equals ``X f_c / d_c``: in canonical units the label depends on the
  image content alone.
- FOV conditioning (DMD, Saxena et al. 2023): give the network the focal length as an input
  (``fov_channel``: one constant input channel; see depthgen.models.unet) and keep metric labels.

Aspect. ``focal_norm`` is one number, so a 4:3 image squashed to the model's square and a square image of the
same ``focal_norm`` look alike to the FOV channel, though the squash makes every object in the first 4/3 as tall
as it is wide. ``aspect_channel`` (a second constant channel, ``model.aspect_conditioning``) gives the model
the squash: ``log((fx / W) / (fy / H))``, 0 for a square image with square pixels, ``log(3 / 4)`` for 4:3
landscape.

Focal convention. ``focal_norm`` is the focal length in units of the image size, the geometric mean of
``fx / W`` and ``fy / H``: the model sees every image resized (squashed) to its square resolution, and
there an object's width scales with ``fx / W`` and its height with ``fy / H``. For a square image with
square pixels it is ``0.5 / tan(hfov / 2)``; the canonical camera is a square image with horizontal field of
view ``canonical_fov_deg``. A field of view given as a number is always horizontal, with square pixels.

Pixel convention for K (as depthgen.data.procedural): pixel (i, j)'s centre is at (j + 0.5, i + 0.5).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

# Assumed when a caller gives neither K nor a field of view. It equals text3d's preset trajectory FOV and
# the middle of the procedural cameras' plain range (55-75 degrees).
DEFAULT_FOV_DEG = 60.0
# The FOV conditioning channel is 0 at this field of view (square image).
REFERENCE_FOV_DEG = 60.0
# Diagonal of a 36 x 24 mm frame: the 35 mm-equivalent focal length is defined against it.
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)
EXIF_IFD = 0x8769  # the Exif sub-IFD of a JPEG's EXIF block
EXIF_FOCAL_35MM = 0xA405  # FocalLengthIn35mmFilm (mm)


def rotation_ypr(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """(3, 3) float64 rotation of an OpenCV camera (x right, y down, z forward), angles in radians: yaw about y,
    then pitch about x (positive turns +z toward -y: looks up), then roll about z."""
    cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return ry @ rx @ rz


def check_fov(fov_deg: Any, what: str = "fov_deg") -> float:
    """A field of view as float degrees; anything but a number in (0, 180) -> ValueError."""
    if isinstance(fov_deg, bool) or not isinstance(fov_deg, (int, float, np.floating, np.integer)):
        raise ValueError(f"{what} must be a number of degrees, got {fov_deg!r}")
    fov = float(fov_deg)
    if not (math.isfinite(fov) and 0.0 < fov < 180.0):
        raise ValueError(f"{what} must be a field of view in degrees between 0 and 180 (exclusive), got {fov_deg}")
    return fov


def fov_to_focal(fov_deg: float, width: float) -> float:
    """Focal length in pixels for a horizontal field of view ``fov_deg`` over ``width`` pixels."""
    return 0.5 * float(width) / math.tan(math.radians(check_fov(fov_deg)) / 2.0)


def focal_to_fov(focal_px: float, width: float) -> float:
    """Horizontal field of view in degrees of a focal length ``focal_px`` over ``width`` pixels."""
    if not focal_px > 0:
        raise ValueError(f"focal length must be > 0 pixels, got {focal_px}")
    return math.degrees(2.0 * math.atan(0.5 * float(width) / float(focal_px)))


def check_intrinsics(K: Any) -> np.ndarray:
    """K as a (3, 3) float64 array; not finite, another shape or fx, fy <= 0 -> ValueError."""
    K = np.asarray(K, np.float64)
    if K.shape != (3, 3) or not np.isfinite(K).all() or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise ValueError(f"K must be a finite (3, 3) intrinsics matrix with fx, fy > 0, got shape {K.shape}")
    return K


def normalized_focal(size: tuple[int, int], K: np.ndarray | None = None, fov_deg: float | None = None) -> float:
    """``focal_norm`` (see the module docstring) of an image of ``size`` (H, W) from K (3, 3) pixels, or from
    a horizontal ``fov_deg``, or ``DEFAULT_FOV_DEG`` when both are None. Both given -> ValueError."""
    h, w = int(size[0]), int(size[1])
    if K is not None and fov_deg is not None:
        raise ValueError("give the camera as K or as fov_deg, not both")
    if K is not None:
        K = check_intrinsics(K)
        return math.sqrt(K[0, 0] / w * K[1, 1] / h)
    f = fov_to_focal(DEFAULT_FOV_DEG if fov_deg is None else fov_deg, w)  # fx = fy (square pixels)
    return f / math.sqrt(w * h)


def square_focal(fov_deg: float) -> float:
    """``focal_norm`` of a square image with horizontal field of view ``fov_deg``."""
    return 0.5 / math.tan(math.radians(check_fov(fov_deg)) / 2.0)


def canonical_scale(focal_norm: float, canonical_fov_deg: float) -> float:
    """``f_c / f``: the factor that takes metric depth to the canonical camera's depth."""
    if not focal_norm > 0:
        raise ValueError(f"focal_norm must be > 0, got {focal_norm}")
    return square_focal(canonical_fov_deg) / float(focal_norm)


def to_canonical(depth, focal_norm: float, canonical_fov_deg: float):
    """Metric depth (any shape; numpy or torch; 0 = invalid stays 0) -> canonical-camera depth."""
    return depth * canonical_scale(focal_norm, canonical_fov_deg)


def from_canonical(depth_c, focal_norm: float, canonical_fov_deg: float):
    """Canonical-camera depth -> metric depth for a camera with ``focal_norm`` (inverse of ``to_canonical``)."""
    return depth_c / canonical_scale(focal_norm, canonical_fov_deg)


def fov_channel(focal_norm: float) -> float:
    """The FOV conditioning value: ``log(focal_norm / square_focal(REFERENCE_FOV_DEG))`` (0 at 60 degrees,
    -0.55 at 90, +0.33 at 45); the log of how much nearer an object looks than through the reference lens."""
    if not focal_norm > 0:
        raise ValueError(f"focal_norm must be > 0, got {focal_norm}")
    return math.log(float(focal_norm) / square_focal(REFERENCE_FOV_DEG))


def aspect_channel(size: tuple[int, int], K: np.ndarray | None = None) -> float:
    """The aspect conditioning value of an image of ``size`` (H, W): ``log((fx / W) / (fy / H))``, the log
    width-to-height ratio of a pixel once the image is squashed to a square (``fx / fy`` in model pixels). K
    (3, 3) pixels; None = square pixels (``fx = fy``), which is what a field of view given as a number means."""
    h, w = int(size[0]), int(size[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"image size must be positive, got {size}")
    if K is None:
        return math.log(h / w)
    K = check_intrinsics(K)
    return math.log((K[0, 0] / w) / (K[1, 1] / h))


# ----------------------------------------------------------------------------- augmentation: crop / uncrop
def draw_zoom(generator: torch.Generator, prob: float, max_zoom: float) -> tuple[float, float, float]:
    """(zoom, u, v) for ``zoom_view``: with probability ``prob`` a zoom log-uniform in [1 / max_zoom, max_zoom]
    and a uniform placement (u, v) in [0, 1]^2; else (1, 0.5, 0.5). Always draws 4 numbers from ``generator``."""
    r = torch.rand(4, generator=generator, dtype=torch.float64).tolist()
    if r[0] >= prob or max_zoom <= 1.0:
        return 1.0, 0.5, 0.5
    return math.exp((2.0 * r[1] - 1.0) * math.log(max_zoom)), r[2], r[3]


def zoom_view(rgb: np.ndarray, depth: np.ndarray, valid: np.ndarray, K: np.ndarray, zoom: float,
              u: float = 0.5, v: float = 0.5, fill: int = 128) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Change the field of view of a view by crop (``zoom`` > 1) or uncrop (``zoom`` < 1), keeping its size.

    rgb (H, W, 3) uint8; depth (H, W) float32 metres (0 = invalid); valid (H, W) bool; K (3, 3) pixels.
    Image point p (pixel units, centre convention of the module docstring) moves to ``zoom * p + t`` with
    ``t = (u, v) * (1 - zoom) * (W, H)``: u = v = 0.5 keeps the principal point's position; u, v in [0, 1]
    keep the crop window inside the image (zoom > 1) or the image inside the frame (zoom < 1).
    Depth is unchanged (same camera centre and axis); the new border of an uncrop is ``fill`` grey in rgb,
    0 in depth and False in valid. Returns (rgb, depth, valid, K') with K' = the new intrinsics
    (fx, fy times ``zoom``; principal point moved with the image).
    """
    import cv2

    if not zoom > 0:
        raise ValueError(f"zoom must be > 0, got {zoom}")
    h, w = depth.shape
    tx, ty = u * (1.0 - zoom) * w, v * (1.0 - zoom) * h
    K2 = np.asarray(K, np.float64).copy()
    K2[0, 0] *= zoom
    K2[1, 1] *= zoom
    K2[0, 2] = zoom * K2[0, 2] + tx
    K2[1, 2] = zoom * K2[1, 2] + ty
    if zoom == 1.0 and tx == 0.0 and ty == 0.0:
        return rgb, depth, valid, K2
    # cv2 puts pixel centres at integers: shift the translation by half a pixel on both sides
    M = np.array([[zoom, 0.0, tx + 0.5 * (zoom - 1.0)], [0.0, zoom, ty + 0.5 * (zoom - 1.0)]])
    border = cv2.BORDER_CONSTANT
    rgb2 = cv2.warpAffine(np.ascontiguousarray(rgb), M, (w, h), flags=cv2.INTER_LINEAR, borderMode=border,
                          borderValue=(fill, fill, fill))
    depth2 = cv2.warpAffine(np.ascontiguousarray(depth, np.float32), M, (w, h), flags=cv2.INTER_NEAREST,
                            borderMode=border, borderValue=0.0)
    valid2 = cv2.warpAffine(np.ascontiguousarray(valid, np.uint8), M, (w, h), flags=cv2.INTER_NEAREST,
                            borderMode=border, borderValue=0) > 0
    return rgb2, depth2, valid2, K2


# ------------------------------------------------------------------------------------------- photos: EXIF
def exif_focal_35mm(image: Any) -> float | None:
    """The 35 mm-equivalent focal length (mm) in a PIL image's EXIF, or None when absent or not positive."""
    try:
        exif = image.getexif()
        value = exif.get_ifd(EXIF_IFD).get(EXIF_FOCAL_35MM) or exif.get(EXIF_FOCAL_35MM)
        f35 = float(value) if value is not None else 0.0
    except (AttributeError, TypeError, ValueError, OSError):
        return None
    return f35 if math.isfinite(f35) and f35 > 0 else None


def focal_px_from_35mm(focal_35mm: float, width: int, height: int) -> float:
    """Focal length in pixels of a ``width`` x ``height`` photo from its 35 mm-equivalent focal length.

    The equivalence is defined on the diagonal (a 43.27 mm full-frame diagonal), so it holds for any aspect
    ratio: ``f_px = f35 * hypot(W, H) / 43.27``; for a 3:2 photo that is ``f35 * W / 36``.
    """
    if not focal_35mm > 0:
        raise ValueError(f"35 mm-equivalent focal length must be > 0 mm, got {focal_35mm}")
    return float(focal_35mm) * math.hypot(width, height) / FULL_FRAME_DIAGONAL_MM


def photo_focal_px(path: str | Path) -> tuple[float, tuple[int, int]] | None:
    """(focal length in pixels, (W, H)) of a photo file from its EXIF 35 mm-equivalent focal length, as the
    pixels are stored (before any EXIF rotation); None when the file has no such tag."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            f35 = exif_focal_35mm(im)
            size = im.size
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    if f35 is None:
        return None
    return focal_px_from_35mm(f35, *size), (int(size[0]), int(size[1]))
