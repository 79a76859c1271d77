"""Palette pretraining tasks on RGB images: colorize, inpaint, uncrop, jpeg (artifact removal).

Each task turns a clean image into ``(condition (3, H, W), aux mask (1, H, W), target (3, H, W), task id)``
as float32 tensors in [-1, 1] (aux in {0, 1}: the region to generate, ones for colorize/jpeg where every
pixel changes). Masked condition pixels are set to 0 (mid grey), or with ``TasksConfig.hole_fill: telea``
pre-filled by OpenCV's Telea inpainting (``fill_hole``), so the model learns to improve on a classical fill
rather than to paint from blank. Task ids index ``depthgen.models.config.TASKS``.
All randomness comes from the torch.Generator passed in.
"""

from __future__ import annotations

import io

import numpy as np
import torch

from depthgen.data.masks import sample_mask
from depthgen.models.config import HOLE_FILLS, TASKS
from depthgen.training.recipe import TasksConfig


def to_model_rgb(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 or float [0, 1] -> (3, H, W) float32 in [-1, 1]."""
    a = np.asarray(rgb)
    a = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))) * 2.0 - 1.0


def grey(x: torch.Tensor) -> torch.Tensor:
    """(3, H, W) [-1, 1] -> (3, H, W) luma replicated to three channels (ITU-R 601 weights)."""
    w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype).view(3, 1, 1)
    return (x * w).sum(0, keepdim=True).expand(3, -1, -1).clone()


def jpeg_degrade(x: torch.Tensor, quality: int) -> torch.Tensor:
    """(3, H, W) [-1, 1] -> the same image after a JPEG round trip at ``quality`` (1..95) with PIL."""
    from PIL import Image

    u8 = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    back = np.asarray(Image.open(buf).convert("RGB"))
    return to_model_rgb(back)


TELEA_RADIUS = 3  # pixels, at the model resolution
TELEA_BAND = 4  # pixels: telea_band keeps the Telea fill this close to known pixels, grey further in


def fill_hole(image: torch.Tensor, mask: torch.Tensor, how: str = "grey") -> torch.Tensor:
    """The condition image for inpaint / uncrop: (3, H, W) [-1, 1] with its (1, H, W) {0, 1} ``mask`` pixels
    (1 = to fill) set to 0 (``grey``), filled by ``cv2.inpaint`` Telea on the 8-bit image (``telea``), or filled by
    Telea only within ``TELEA_BAND`` pixels of a known pixel and grey further in (``telea_band``: a classical
    fill is trustworthy near the hole's edge, while deep inside a large hole it is a smear the model could
    mistake for sky)."""
    if how not in HOLE_FILLS:
        raise ValueError(f"hole_fill must be one of {list(HOLE_FILLS)}, got {how!r}")
    if how == "grey":
        return image * (1.0 - mask)
    import cv2

    m8 = (mask[0] > 0.5).numpy().astype(np.uint8)
    if not m8.any() or m8.all():
        return image * (1.0 - mask)  # nothing to fill, or nothing known to fill from
    u8 = ((image.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    out = to_model_rgb(cv2.inpaint(np.ascontiguousarray(u8), m8, TELEA_RADIUS, cv2.INPAINT_TELEA))
    if how == "telea_band":  # distance (pixels) of each hole pixel to the nearest known pixel
        dist = cv2.distanceTransform(m8, cv2.DIST_L2, 3)
        out = torch.where(torch.from_numpy(dist <= TELEA_BAND)[None], out, torch.zeros_like(out))
    return torch.where(mask > 0.5, out, image).to(image.dtype)


def make_task(task: str, target: torch.Tensor, generator: torch.Generator, cfg: TasksConfig | None = None,
              depth: np.ndarray | None = None, K: np.ndarray | None = None,
              mask_kind: str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Build one example of ``task`` from a clean image ``target`` (3, H, W) in [-1, 1].

    depth (H, W) metres, optional: used for disocclusion-shaped masks. mask_kind forces the inpainting
    mask generator (default: drawn from cfg.mask_kinds with cfg.mask_weights).
    Returns (cond (3, H, W), aux (1, H, W), target (3, H, W), task id int).
    """
    cfg = cfg or TasksConfig()
    _, h, w = target.shape
    if task == "colorize":
        return grey(target), torch.ones(1, h, w), target, TASKS.index(task)
    if task == "jpeg":
        lo, hi = cfg.jpeg_quality
        q = int(torch.randint(lo, hi + 1, (), generator=generator))
        return jpeg_degrade(target, q), torch.ones(1, h, w), target, TASKS.index(task)
    if task in ("inpaint", "uncrop"):
        if task == "uncrop":
            kind = "uncrop"
        elif mask_kind is not None:
            kind = mask_kind
        else:
            probs = torch.tensor(cfg.mask_weights, dtype=torch.float64)
            kind = cfg.mask_kinds[int(torch.multinomial(probs, 1, generator=generator))]
        m = torch.from_numpy(sample_mask(kind, h, w, generator, depth=depth, K=K))[None].float()  # (1, H, W)
        return fill_hole(target, m, cfg.hole_fill), m, target, TASKS.index(task)
    raise ValueError(f"unknown pretraining task {task!r}; use one of {list(TASKS[:-1])}")


def draw_task(cfg: TasksConfig, generator: torch.Generator) -> str:
    """A task name drawn from ``cfg.names`` with ``cfg.weights``."""
    probs = torch.tensor(cfg.weights, dtype=torch.float64)
    return cfg.names[int(torch.multinomial(probs, 1, generator=generator))]
