"""``PalettePipeline``: the Palette pretrain / inpaint model as an image-to-image pipeline.

    pipe = PalettePipeline.from_pretrained("runs/inpaint/pipeline")
    out = pipe.inpaint(image, mask, num_inference_steps=20, generator=g)   # (H, W, 3) float32, unchanged outside mask
    out = pipe.run_task("colorize" | "jpeg" | "uncrop" | "inpaint", image, mask=None, ...)

The condition is the degraded image (masked pixels set to mid grey for inpaint/uncrop, or pre-filled by
OpenCV Telea when the model was trained that way: config ``hole_fill``; grey-scale for colorize, the image
itself for jpeg) plus the aux mask channel, and the task id. For inpaint / uncrop the
unmasked pixels are imputed at every step (replacement, optional RePaint ``resample``) and copied back
exactly at full resolution.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import DiffusionPipeline

from depthgen.common.io import as_rgb
from depthgen.data.pretrain_tasks import fill_hole, grey
from depthgen.models.config import HOLE_FILLS, TASKS
from depthgen.models.pipeline_common import (check_pipeline_dir, config_resolution, draw_samples, image_to_model,
                                             masked_resize, model_hw, resize_back)


class PalettePipeline(DiffusionPipeline):
    model_cpu_offload_seq = "unet"

    def __init__(self, unet: Any, scheduler: Any, resolution: int | list[int] = 64, prediction_type: str = "v_prediction",
                 objective: str = "diffusion", hole_fill: str = "grey") -> None:
        super().__init__()
        if unet.config.out_channels != 3 or unet.config.in_channels != 7:
            raise ValueError(f"PalettePipeline needs an RGB UNet (7 in / 3 out channels), got "
                             f"{unet.config.in_channels} / {unet.config.out_channels}; is this a DepthGenPipeline checkpoint?")
        if hole_fill not in HOLE_FILLS:
            raise ValueError(f"hole_fill must be one of {list(HOLE_FILLS)}, got {hole_fill!r}")
        self.register_modules(unet=unet, scheduler=scheduler)
        self.register_to_config(resolution=config_resolution(resolution), prediction_type=prediction_type, objective=objective,
                                hole_fill=hole_fill)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, **kwargs: Any) -> "PalettePipeline":
        """Load a local pipeline folder (no hub access); wrong folder or class -> ValueError."""
        check_pipeline_dir(pretrained_model_name_or_path, cls.__name__)
        kwargs.setdefault("local_files_only", True)
        return super().from_pretrained(pretrained_model_name_or_path, **kwargs)

    @torch.no_grad()
    def run_task(self, task: str, image: Any, mask: np.ndarray | None = None, num_inference_steps: int = 20,
                 generator: torch.Generator | None = None, resample: int = 0, scheduler: str = "ddim") -> np.ndarray:
        """Apply ``task`` to ``image`` (H, W, 3); mask (H, W) bool True = fill (inpaint / uncrop only).

        Returns (H, W, 3) float32 in [0, 1]; for inpaint/uncrop the pixels outside ``mask`` equal the input.
        """
        if task not in TASKS[:-1]:
            raise ValueError(f"task must be one of {list(TASKS[:-1])}, got {task!r}")
        rgb = as_rgb(image)
        hw = rgb.shape[:2]
        s = model_hw(self.config.resolution)
        img = image_to_model(rgb, s)  # (3, h, w) [-1, 1]
        known = km = None
        if task in ("inpaint", "uncrop"):
            if mask is None:
                raise ValueError(f"task {task!r} needs a mask (H, W) bool, True = pixels to fill")
            mask = np.asarray(mask)
            if mask.shape != hw or mask.dtype != bool:
                raise ValueError(f"mask must be a bool array of the image size {hw}, got {mask.dtype} {mask.shape}")
            if not mask.any():
                return rgb.copy()
            if mask.all():
                raise ValueError("mask covers the whole image: nothing is known to inpaint from")
            vals, keep_lo = masked_resize(rgb * 2.0 - 1.0, ~mask, s)
            m_lo = torch.from_numpy(~keep_lo)[None].float()  # (1, S, S) fill region at model res
            cond = torch.cat([fill_hole(torch.from_numpy(vals.transpose(2, 0, 1)), m_lo, self.config.hole_fill), m_lo])
            known = torch.from_numpy(vals.transpose(2, 0, 1))[None].to(self.device, self.unet.dtype)
            km = torch.from_numpy(keep_lo)[None, None].to(self.device)
        elif task == "colorize":
            cond = torch.cat([grey(img), torch.ones(1, *s)])
        else:
            cond = torch.cat([img, torch.ones(1, *s)])
        cond = cond[None].to(self.device, self.unet.dtype)  # (1, 4, S, S)
        x = draw_samples(self.unet, self.scheduler, cond, 1, 3, generator, num_inference_steps, scheduler, None,
                         TASKS.index(task), self.config.objective, known, km, resample)
        out = ((resize_back(x, hw)[0].permute(1, 2, 0).numpy() + 1.0) / 2.0).clip(0, 1).astype(np.float32)
        if task in ("inpaint", "uncrop"):
            out = np.where(mask[..., None], out, rgb).astype(np.float32)
        return out

    def inpaint(self, image: Any, mask: np.ndarray, num_inference_steps: int = 20,
                generator: torch.Generator | None = None, resample: int = 0, scheduler: str = "ddim") -> np.ndarray:
        """Fill ``mask`` (H, W) bool True = fill; returns (H, W, 3) float32, unchanged outside the mask."""
        return self.run_task("inpaint", image, mask, num_inference_steps, generator, resample, scheduler)
