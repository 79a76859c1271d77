"""The run's camera: one horizontal field of view for every view, resolved once before any model loads.

Where it comes from (``source``): ``user`` (``fov_deg`` / ``--fov``), ``exif`` (a photo's 35 mm-equivalent focal
length and the centre crop to the view's aspect), ``default`` (a photo without one: the preset's
``trajectory.fov_deg``) or ``trajectory`` (a text prompt: the trajectory's camera paints the view). The
``Camera`` is passed explicitly to what needs it: the trajectory's overlap check, the scene's ``K``, the depth
backend (when it takes ``fov_deg``) and ``manifest.json``'s ``camera`` entry; the preset is not rewritten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from depthgen.models.camera import focal_to_fov, photo_focal_px
from text3d.config import Text3DConfig
from text3d.geometry.cameras import intrinsics_from_fov, scale_intrinsics

FOV_RANGE = (1.0, 170.0)  # degrees: what text3d.geometry.cameras.intrinsics_from_fov accepts
FOV_SOURCES = ("user", "exif", "default", "trajectory")


@dataclass(frozen=True, eq=False)
class Camera:
    """The run's pinhole camera at the view size.

    K: (3, 3) float64 intrinsics in pixels; height, width: the view size; fov_deg: the horizontal field of view
    in degrees (what a depth model that takes the camera is given); source: where it came from
    (``FOV_SOURCES``). ``Camera.from_fov`` builds the usual one (square pixels, centred principal point).
    """

    K: np.ndarray
    height: int
    width: int
    fov_deg: float
    source: str = "default"

    @classmethod
    def from_fov(cls, fov_deg: float, height: int, width: int, source: str = "default") -> "Camera":
        """The camera with horizontal field of view ``fov_deg`` at (height, width) pixels."""
        return cls(intrinsics_from_fov(fov_deg, width, height), height, width, float(fov_deg), source)

    @classmethod
    def from_K(cls, K: np.ndarray, height: int, width: int, source: str = "default") -> "Camera":
        """The camera with intrinsics ``K`` (3, 3) at (height, width) pixels (its field of view from ``K[0, 0]``)."""
        K = np.asarray(K, np.float64)
        return cls(K, height, width, math.degrees(2 * math.atan(width / (2 * K[0, 0]))), source)

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) pixels."""
        return self.height, self.width

    def K_at(self, size: tuple[int, int]) -> np.ndarray:
        """(3, 3) float64 intrinsics of the same camera at another (H, W) size."""
        return scale_intrinsics(self.K, self.size, size)

    def manifest_entry(self, depth_uses_fov: bool) -> dict:
        """``manifest.json``'s ``camera``: ``fov_deg`` (degrees, 4 decimals), ``source`` and ``depth_uses_fov``
        (whether the depth model's output depends on it: a camera-aware DepthGen model)."""
        return {"fov_deg": round(float(self.fov_deg), 4), "source": self.source, "depth_uses_fov": bool(depth_uses_fov)}


def photo_fov_deg(image: str | Path | np.ndarray, height: int, width: int) -> float | None:
    """Horizontal field of view (degrees) of the (height, width) view ``text3d.run.inputs.load_image`` makes from
    a photo file, from the photo's EXIF 35 mm-equivalent focal length and the centre crop to the view's aspect;
    None without one (or for an array)."""
    if isinstance(image, np.ndarray):
        return None
    found = photo_focal_px(image)
    if found is None:
        return None
    focal, (w0, h0) = found
    if _turned(image):              # the view is cropped from the photo turned upright (EXIF orientation 5-8)
        w0, h0 = h0, w0
    fov = focal_to_fov(focal, width * min(w0 / width, h0 / height))  # the crop's width in photo pixels
    return fov if FOV_RANGE[0] <= fov <= FOV_RANGE[1] else None


def _turned(path: str | Path) -> bool:
    """True when a photo's EXIF orientation turns it by 90 degrees (``text3d.run.inputs.read_photo`` applies it)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.getexif().get(0x0112) in (5, 6, 7, 8)
    except (OSError, ValueError, TypeError, AttributeError):
        return False


def check_fov(fov_deg: object) -> float:
    """``fov_deg`` as a float, or a ValueError unless it is a number of degrees within ``FOV_RANGE``."""
    if isinstance(fov_deg, bool) or not isinstance(fov_deg, (int, float, np.integer, np.floating)) or not (
            FOV_RANGE[0] <= float(fov_deg) <= FOV_RANGE[1]):
        raise ValueError(f"--fov / fov_deg must be the horizontal field of view in degrees, {FOV_RANGE[0]:g} to "
                         f"{FOV_RANGE[1]:g}; got {fov_deg!r}")
    return float(fov_deg)


def resolve_camera(cfg: Text3DConfig, fov_deg: float | None, image: str | Path | np.ndarray | None) -> Camera:
    """The run's camera at the view size of ``cfg``: ``fov_deg`` if given, else a photo's EXIF field of view,
    else the preset's ``trajectory.fov_deg``."""
    if fov_deg is not None:
        fov, source = check_fov(fov_deg), "user"
    elif image is not None:
        exif = photo_fov_deg(image, cfg.height, cfg.width)
        fov, source = (exif, "exif") if exif is not None else (cfg.trajectory.fov_deg, "default")
    else:
        fov, source = cfg.trajectory.fov_deg, "trajectory"
    return Camera.from_fov(float(fov), cfg.height, cfg.width, source)
