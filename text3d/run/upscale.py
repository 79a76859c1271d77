"""The super-resolution cascade of a text-to-3D run (``cfg.sr``): the tools that take the base models' output
(view size / ``sr.scale``, 64 px) to the view size (256 px). ``text3d.run.views.ViewPainter`` uses them.

- ``Upscaler.image``: painted pixels through the embedded super-resolution model (``text3d.models.sr``).
- ``compose_view``: an inpainted view keeps every pixel rendered from the mesh exactly; only the holes take
  the super-resolved paint, colour-matched to the rendered pixels in a thin band so there is no seam.
- ``Upscaler.depth``: the base depth upsampled with the view as the guide (``text3d.geometry.upsample``);
  known (rendered) depth stays exact.
- ``photo_view_size``: the view size of a run that starts from a photo.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from text3d.backends.protocols import DepthResult
from text3d.backends.registry import ASSETS
from text3d.config import SRConfig, Text3DConfig
from text3d.geometry.upsample import area_downsample, bilinear_upsample, joint_bilateral_upsample

EMBEDDED_SR = ASSETS / "sr"


def sr_model_path(name: str) -> Path:
    """The folder of ``sr.model``: ``embedded`` -> assets/sr, else the given folder (ValueError if absent)."""
    path = EMBEDDED_SR if name == "embedded" else Path(name)
    if not (path / "model_index.json").is_file():
        raise ValueError(f"sr.model {name!r}: no saved super-resolution pipeline at {path}; use 'embedded' or "
                         "a folder written by python -m text3d.models.sr.train")
    return path


@functools.lru_cache(maxsize=2)
def load_sr_pipeline(path: str, device: str = "cpu"):
    """A ``SuperResolutionPipeline`` from ``path`` on ``device`` in the backends' precision
    (``text3d.backends.placement``: float16 on CUDA), loaded once per process."""
    from text3d.backends.placement import load_pipeline
    from text3d.models.sr import SuperResolutionPipeline

    return load_pipeline(SuperResolutionPipeline, path, device)


def lowres_holes(holes: np.ndarray, scale: int) -> np.ndarray:
    """(H / scale, W / scale) bool: a base-model pixel is a hole when any view pixel it covers is one."""
    return area_downsample(np.asarray(holes, np.float32), scale) > 0


def compose_view(rendered: np.ndarray, holes: np.ndarray, painted: np.ndarray, band: int) -> np.ndarray:
    """The view: ``rendered`` (H, W, 3) where ``holes`` (H, W) bool is False, ``painted`` (H, W, 3) inside.

    Seam: the difference rendered - painted on the known pixels, smoothed (normalised Gaussian, sigma = band / 2)
    and carried into the hole, is added to the painted pixels with a weight falling from 1 next to the known
    pixels to 0 at ``band`` px in; so the new region meets the rendered one without a step, known pixels are
    untouched and the interior keeps the super-resolved paint. band 0: a hard cut. Returns float32 [0, 1].
    """
    holes = np.asarray(holes, bool)
    rendered = np.asarray(rendered, np.float32)
    painted = np.asarray(painted, np.float32)
    out = np.where(holes[..., None], painted, rendered)
    if band <= 0 or not holes.any() or holes.all():
        return np.clip(out, 0, 1).astype(np.float32)
    from scipy.ndimage import distance_transform_edt, gaussian_filter

    known = (~holes).astype(np.float32)
    sigma = max(band / 2.0, 0.5)
    diff = (rendered - painted) * known[..., None]
    den = gaussian_filter(known, sigma, mode="nearest")
    num = np.stack([gaussian_filter(diff[..., c], sigma, mode="nearest") for c in range(3)], -1)
    carried = num / np.maximum(den, 1e-6)[..., None]
    dist = distance_transform_edt(holes)  # px to the nearest known pixel (>= 1 inside the hole)
    weight = np.clip(1.0 - (dist - 1.0) / band, 0.0, 1.0).astype(np.float32)
    out = np.where(holes[..., None], painted + weight[..., None] * carried, rendered)
    return np.clip(out, 0, 1).astype(np.float32)


@dataclass
class Upscaler:
    """The embedded super-resolution pipeline and the ``sr`` settings of a run."""

    pipe: Any
    cfg: SRConfig

    @property
    def scale(self) -> int:
        return int(self.cfg.scale)

    def image(self, image: np.ndarray, generator) -> np.ndarray:
        """(h, w, 3) float32 [0, 1] -> (h scale, w scale, 3) float32 [0, 1] (the model's own scale must match)."""
        if int(self.pipe.config.scale) != self.scale:
            raise ValueError(f"sr.scale {self.scale} does not match the super-resolution model's scale "
                             f"{self.pipe.config.scale}; set sr.scale={self.pipe.config.scale}")
        out = self.pipe(image, level=self.cfg.level, num_inference_steps=self.cfg.steps, generator=generator)
        return np.clip(out, 0, 1).astype(np.float32)

    def lowres(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) view -> (H / scale, W / scale, 3): the block means (what the base models see of a photo)."""
        return area_downsample(image, self.scale)

    def depth(self, res: DepthResult, guide: np.ndarray, guide_lr: np.ndarray, known_depth: np.ndarray | None = None,
              known_mask: np.ndarray | None = None) -> DepthResult:
        """Base-size depth -> view-size depth (metres) guided by ``guide`` (H, W, 3); ``guide_lr`` is the image
        the depth was predicted from. Pixels under ``known_mask`` (H, W) take ``known_depth`` exactly;
        uncertainty is upsampled bilinearly (0 on known pixels); samples are dropped."""
        c = self.cfg
        size = np.asarray(guide).shape[:2]
        depth = joint_bilateral_upsample(res.depth, guide, guide_lr, radius=c.depth_radius,
                                         sigma_spatial=c.depth_sigma_spatial, sigma_range=c.depth_sigma_range)
        unc = np.maximum(bilinear_upsample(res.uncertainty, size), 0).astype(np.float32)
        if known_mask is not None:
            known_mask = np.asarray(known_mask, bool)
            depth = np.where(known_mask, np.asarray(known_depth, np.float32), depth).astype(np.float32)
            unc[known_mask] = 0.0
        return DepthResult(depth, unc, None)


PHOTO_MAX_SIDE = 512  # a photo's first view keeps its own resolution up to this many pixels on its longer side


def photo_view_size(photo_hw: tuple[int, int], cfg: Text3DConfig, max_side: int = PHOTO_MAX_SIDE) -> tuple[int, int]:
    """(H, W) view size for a photo of ``photo_hw`` pixels with the cascade on: the photo's own size, scaled
    down so that its longer side is at most ``max_side``, rounded down to a multiple of ``sr.scale`` x
    ``size_multiple`` (the base models' size must be a multiple of ``size_multiple``); at least the preset's
    minimum. With the cascade off: the preset's (height, width)."""
    if not cfg.sr.enabled:
        return cfg.height, cfg.width
    h, w = (int(v) for v in photo_hw)
    step = cfg.sr.scale * cfg.size_multiple
    f = min(1.0, max_side / max(h, w))
    low = max(step, -(-cfg.min_size * cfg.sr.scale // step) * step)
    return tuple(max(low, int(v * f) // step * step) for v in (h, w))  # type: ignore[return-value]


def backend_device(backends) -> str:
    """The device the run's models sit on (the first backend with a ``pipe`` says), else cpu."""
    for b in (backends.depth, backends.inpaint, backends.t2i):
        dev = getattr(getattr(b, "pipe", None), "device", None)
        if dev is not None:
            return str(dev)
    return "cpu"


def make_upscaler(cfg: Text3DConfig, backends) -> Upscaler | None:
    """The run's ``Upscaler``, or None when ``sr.enabled`` is off."""
    if not cfg.sr.enabled:
        return None
    return Upscaler(load_sr_pipeline(str(sr_model_path(cfg.sr.model)), backend_device(backends)), cfg.sr)
