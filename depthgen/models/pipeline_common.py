"""Machinery shared by ``DepthGenPipeline`` and ``PalettePipeline``: loading checks, resizing between the
input size and the model resolution, and chunked multi-sample sampling.

Resizing policy: plain resize (no padding) of the whole image to the model resolution (area filter when
shrinking, bilinear when enlarging), and bilinear resize of the outputs back to the input size. The
resolution is the pipeline config's ``resolution``: one side (a square model, ``model.sample_size``) or
[height, width] for a model trained at a non-square ``data.size`` (e.g. [240, 320] for NYU). Inputs of another
shape are squashed for the model and un-squashed afterwards; this keeps every pixel of the input in view and
needs no crop bookkeeping.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from depthgen.data.transforms import resize_rgb
from depthgen.models.diffusion import regression_predict
from depthgen.models.sampling import sample, sample_generators


def check_pipeline_dir(path: str | Path, cls_name: str) -> None:
    """Missing folder or a folder saved by another pipeline class -> ValueError."""
    p = Path(path)
    index = p / "model_index.json"
    if not index.is_file():
        raise ValueError(f"no pipeline folder at {p} (model_index.json missing); export one with python -m depthgen.train --export-only")
    name = json.loads(index.read_text()).get("_class_name")
    if name != cls_name:
        raise ValueError(f"{p} holds a {name} checkpoint, not a {cls_name}; load it with {name}.from_pretrained")


def model_hw(resolution: int | Sequence[int]) -> tuple[int, int]:
    """(height, width) of a pipeline's ``resolution``: one side (square) or [height, width]."""
    if isinstance(resolution, (int, np.integer)):
        return int(resolution), int(resolution)
    h, w = (int(v) for v in resolution)
    return h, w


def config_resolution(resolution: int | Sequence[int]) -> int | list[int]:
    """``resolution`` as saved in a pipeline config: an int for a square model, else [height, width]."""
    h, w = model_hw(resolution)
    if h < 1 or w < 1:
        raise ValueError(f"resolution must be positive, got {resolution!r}")
    return h if h == w else [h, w]


def image_to_model(rgb: np.ndarray, hw: tuple[int, int]) -> torch.Tensor:
    """(H, W, 3) float [0, 1] -> (3, h, w) float32 in [-1, 1] at the model size ``hw``."""
    small = resize_rgb(np.ascontiguousarray(rgb, np.float32), hw)
    return torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1))) * 2.0 - 1.0


def masked_resize(values: np.ndarray, mask: np.ndarray, hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Resize known values (H, W, C) float with a known mask (H, W) bool to the model size ``hw`` = (h, w).

    Each model pixel averages the known source pixels under it (area filter on value*mask and mask); it
    counts as known when at least half of its footprint is known. Returns (values (h, w, C), mask (h, w)).
    """
    import cv2

    m = mask.astype(np.float32)
    num = cv2.resize(values * m[..., None], (hw[1], hw[0]), interpolation=cv2.INTER_AREA)
    den = cv2.resize(m, (hw[1], hw[0]), interpolation=cv2.INTER_AREA)
    if num.ndim == 2:
        num = num[..., None]
    vals = num / np.maximum(den, 1e-6)[..., None]
    return vals.astype(np.float32), den >= 0.5


def resize_back(x: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """(N, C, h, w) -> (N, C, H, W) bilinear (no-op at the same size)."""
    if tuple(x.shape[-2:]) == tuple(hw):
        return x
    return torch.nn.functional.interpolate(x, size=hw, mode="bilinear", align_corners=False)


def draw_samples(unet: torch.nn.Module, scheduler: Any, cond: torch.Tensor, num_samples: int, channels: int,
                 generator: torch.Generator | None, num_inference_steps: int, kind: str, batch_size: int | None,
                 task_id: int, objective: str = "diffusion", known: torch.Tensor | None = None,
                 known_mask: torch.Tensor | None = None, resample: int = 0) -> torch.Tensor:
    """``num_samples`` samples for one condition (1, 4, h, w), run in chunks of ``batch_size``.

    Returns (num_samples, channels, h, w) float32 in [-1, 1] on the CPU.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    bs = batch_size or num_samples
    if bs < 1:
        raise ValueError(f"batch_size must be >= 1, got {bs}")
    gens = sample_generators(generator, num_samples)
    outs = []
    for lo in range(0, num_samples, bs):
        n = min(bs, num_samples - lo)
        c = cond.expand(n, -1, -1, -1)
        task = torch.full((n,), task_id, dtype=torch.long, device=cond.device)
        if objective == "regression":
            x = regression_predict(unet, c, task, channels)
            if known is not None:
                x = torch.where(known_mask.bool(), known.to(x.dtype), x)
        else:
            kn = known.expand(n, -1, -1, -1) if known is not None else None
            km = known_mask.expand(n, -1, -1, -1) if known_mask is not None else None
            x = sample(unet, scheduler, c, channels, gens[lo:lo + n], num_inference_steps, kind, task,
                       kn, km, resample)
        outs.append(x.float().cpu())
    return torch.cat(outs)
