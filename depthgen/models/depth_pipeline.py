"""``DepthGenPipeline``: monocular depth (and depth completion) by sampling the DepthGen diffusion model.

    pipe = DepthGenPipeline.from_pretrained("runs/finetune/pipeline")   # a folder, safetensors weights
    out = pipe(image, num_samples=4, num_inference_steps=20, generator=g, scheduler="ddim")
    out.depth (H, W) float32 m (median), out.samples (k, H, W), out.uncertainty (H, W) (std over samples)
    out = pipe.complete(image, known_depth, known_mask, num_samples=4, generator=g)  # keeps known pixels
    out = pipe(image, fov_deg=70.0)   # or K=(3, 3) pixels of the input image: the camera (see below)

Registered modules: ``unet`` (diffusers UNet2DModel, 5 input channels: RGB, aux, x_t; 6 with the FOV
channel) and ``scheduler`` (the training DDPMScheduler; DDIM / DPM samplers are derived from its config).
Config values: depth_param, d_min, d_max, resolution, prediction_type, objective ("diffusion" |
"regression" | "single_step": one pass at t = T - 1, see depthgen.models.diffusion), canonical_fov_deg. The input
image is resized to ``resolution`` (see pipeline_common) and the depth back to the input size (bilinear in
the model's depth space). ``image`` may also be a list: the output is then a list of outputs.

Camera (depthgen.models.camera). ``fov_deg`` (horizontal, degrees, in (0, 180)) or ``K`` ((3, 3) pixels of the
input image) say which lens took the image; with neither, ``DEFAULT_FOV_DEG`` (60) is assumed. A model
trained with the canonical camera (``canonical_fov_deg`` set) predicts canonical depth, scaled here by
f / f_c (and ``complete`` scales the known depth by f_c / f going in); a FOV-conditioned UNet gets the
FOV channel. Models with neither (the shipped ones) ignore the camera: same output with or without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import DiffusionPipeline

from depthgen.common.io import as_images, as_rgb
from depthgen.models.aggregate import aggregate
from depthgen.models.camera import aspect_channel, canonical_scale, check_fov, fov_channel, normalized_focal
from depthgen.models.config import TASKS
from depthgen.models.depth_param import depth_to_model, model_to_depth
from depthgen.models.diffusion import single_step_x0
from depthgen.models.pipeline_common import (check_pipeline_dir, config_resolution, draw_samples, image_to_model,
                                             masked_resize, model_hw, resize_back)
from depthgen.models.unet import CAMERA_LAYOUTS, COND_CHANNELS, FOV_CHANNELS

OBJECTIVES = ("diffusion", "regression", "single_step")


@dataclass
class DepthGenOutput:
    depth: np.ndarray  # (H, W) float32 metres, aggregated over samples
    samples: np.ndarray  # (k, H, W) float32 metres
    uncertainty: np.ndarray  # (H, W) float32 metres, std over samples


class DepthGenPipeline(DiffusionPipeline):
    model_cpu_offload_seq = "unet"

    def __init__(self, unet: Any, scheduler: Any, depth_param: str = "log", d_min: float = 0.1, d_max: float = 80.0,
                 resolution: int | list[int] = 64, prediction_type: str = "v_prediction", objective: str = "diffusion",
                 aggregation: str = "median", canonical_fov_deg: float | None = None) -> None:
        super().__init__()
        inputs = tuple(c + 1 for c in CAMERA_LAYOUTS)
        if unet.config.out_channels != 1 or unet.config.in_channels not in inputs:
            raise ValueError(f"DepthGenPipeline needs a depth UNet (5, 6 or 7 in / 1 out channels), got "
                             f"{unet.config.in_channels} / {unet.config.out_channels}; is this a PalettePipeline checkpoint?")
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        if canonical_fov_deg is not None:
            canonical_fov_deg = check_fov(canonical_fov_deg, "canonical_fov_deg")
        depth_to_model(np.ones(1, np.float32), depth_param, d_min, d_max)  # validates the parametrisation
        self.register_modules(unet=unet, scheduler=scheduler)
        self.register_to_config(depth_param=depth_param, d_min=float(d_min), d_max=float(d_max), resolution=config_resolution(resolution),
                                prediction_type=prediction_type, objective=objective, aggregation=aggregation,
                                canonical_fov_deg=canonical_fov_deg)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, **kwargs: Any) -> "DepthGenPipeline":
        """Load a local pipeline folder (no hub access); wrong folder or class -> ValueError."""
        check_pipeline_dir(pretrained_model_name_or_path, cls.__name__)
        kwargs.setdefault("local_files_only", True)
        return super().from_pretrained(pretrained_model_name_or_path, **kwargs)

    # --- helpers -----------------------------------------------------------------------------------------
    def _to_model(self, d: Any) -> Any:
        c = self.config
        return depth_to_model(d, c.depth_param, c.d_min, c.d_max)

    def _to_depth(self, x: Any) -> Any:
        c = self.config
        return model_to_depth(x, c.depth_param, c.d_min, c.d_max)

    @property
    def fov_conditioned(self) -> bool:
        """True when the UNet takes the FOV channel."""
        return self.unet.config.in_channels >= COND_CHANNELS + FOV_CHANNELS + 1

    @property
    def aspect_conditioned(self) -> bool:
        """True when the UNet takes the aspect channel too (after the FOV channel)."""
        return self.unet.config.in_channels == CAMERA_LAYOUTS[2] + 1

    @property
    def uses_camera(self) -> bool:
        """True when the output depends on the camera (canonical camera or FOV conditioning)."""
        return self.config.canonical_fov_deg is not None or self.fov_conditioned

    def _depth_scale(self, focal: float) -> float:
        """Metric depth per model-space depth: f / f_c with the canonical camera, else 1."""
        c = self.config.canonical_fov_deg
        return 1.0 if c is None else 1.0 / canonical_scale(focal, c)

    def _cond(self, rgb: np.ndarray, focal: float, K: np.ndarray | None) -> torch.Tensor:
        """(1, 4 [+1 [+1]], h, w) condition: the image, aux zeros, the FOV and aspect channels the UNet takes."""
        h, w = model_hw(self.config.resolution)
        img = image_to_model(rgb, (h, w))  # (3, h, w)
        parts = [img, torch.zeros(1, h, w)]  # aux = 0 for depth
        if self.fov_conditioned:
            parts.append(torch.full((1, h, w), fov_channel(focal)))
        if self.aspect_conditioned:
            parts.append(torch.full((1, h, w), aspect_channel(rgb.shape[:2], K)))
        cond = torch.cat(parts)[None]
        return cond.to(device=self.device, dtype=self.unet.dtype)

    def _finish(self, x: torch.Tensor, hw: tuple[int, int], scale: float = 1.0, known: np.ndarray | None = None,
                mask: np.ndarray | None = None) -> DepthGenOutput:
        """x (k, 1, S, S) model space -> metric output at (H, W) (times ``scale``: the canonical camera's
        f / f_c), known pixels re-imposed exactly."""
        samples = self._to_depth(resize_back(x, hw)[:, 0].float()) * scale  # (k, H, W) metres
        if known is not None:
            samples = torch.where(torch.from_numpy(mask)[None], torch.from_numpy(known)[None], samples)
        depth, std = aggregate(samples, self.config.aggregation)
        if known is not None:
            depth = torch.where(torch.from_numpy(mask), torch.from_numpy(known), depth)
        return DepthGenOutput(depth.numpy().astype(np.float32), samples.numpy().astype(np.float32),
                              std.numpy().astype(np.float32))

    def _run(self, cond: torch.Tensor, num_samples: int, num_inference_steps: int, generator: Any, scheduler: str,
             batch_size: int | None, known: torch.Tensor | None = None, known_mask: torch.Tensor | None = None,
             resample: int = 0) -> torch.Tensor:
        task_id = TASKS.index("depth")
        if self.config.objective == "single_step":  # one deterministic pass: every sample is the same
            if num_samples < 1:
                raise ValueError(f"num_samples must be >= 1, got {num_samples}")
            task = torch.full((1,), task_id, dtype=torch.long, device=cond.device)
            x = single_step_x0(self.unet, self.scheduler, cond, task, 1, self.config.prediction_type).clamp(-1, 1)
            if known is not None:
                x = torch.where(known_mask.bool(), known.to(x.dtype), x)
            return x.float().cpu().expand(num_samples, -1, -1, -1)
        return draw_samples(self.unet, self.scheduler, cond, num_samples, 1, generator, num_inference_steps,
                            scheduler, batch_size, task_id, self.config.objective, known, known_mask, resample)

    # --- public API --------------------------------------------------------------------------------------
    @torch.no_grad()
    def __call__(self, image: Any, num_samples: int = 4, num_inference_steps: int = 20,
                 generator: torch.Generator | None = None, scheduler: str = "ddim",
                 batch_size: int | None = None, fov_deg: float | None = None,
                 K: np.ndarray | None = None) -> DepthGenOutput | list[DepthGenOutput]:
        """Depth for ``image`` (PIL, (H, W, 3) uint8/float array, (3, H, W) tensor, or a list of them, all
        taken with the camera ``fov_deg`` / ``K``: see the module docstring)."""
        images, batched = as_images(image)
        outs = []
        for rgb in images:
            focal = self._focal(rgb.shape[:2], K, fov_deg)
            x = self._run(self._cond(rgb, focal, K), num_samples, num_inference_steps, generator, scheduler, batch_size)
            outs.append(self._finish(x, rgb.shape[:2], self._depth_scale(focal)))
        return outs if batched else outs[0]

    @staticmethod
    def _focal(hw: tuple[int, int], K: np.ndarray | None, fov_deg: float | None) -> float:
        """The image's normalised focal length (depthgen.models.camera.normalized_focal); bad camera -> ValueError."""
        if fov_deg is not None:
            fov_deg = check_fov(fov_deg)
        return normalized_focal(hw, K, fov_deg)

    @torch.no_grad()
    def complete(self, image: Any, known_depth: np.ndarray, known_mask: np.ndarray, num_samples: int = 4,
                 num_inference_steps: int = 20, generator: torch.Generator | None = None, resample: int = 0,
                 scheduler: str = "ddim", batch_size: int | None = None, fov_deg: float | None = None,
                 K: np.ndarray | None = None) -> DepthGenOutput:
        """Complete a partial depth map: the output equals ``known_depth`` on ``known_mask`` exactly.

        known_depth (H, W) float metres (> 0 and finite where known); known_mask (H, W) bool, same size as
        the image, neither empty nor full. fov_deg / K: the camera (module docstring).
        """
        rgb = as_rgb(image)
        known_depth = np.asarray(known_depth)
        known_mask = np.asarray(known_mask)
        hw = rgb.shape[:2]
        if known_depth.shape != hw or known_mask.shape != hw:
            raise ValueError(f"known_depth {known_depth.shape} and known_mask {known_mask.shape} must match the image size {hw}")
        if known_mask.dtype != bool:
            raise ValueError(f"known_mask must be a bool array, got {known_mask.dtype}")
        if not known_mask.any():
            raise ValueError("known_mask is empty: nothing is known, call the pipeline directly instead of complete()")
        if known_mask.all():
            raise ValueError("known_mask covers every pixel: nothing to complete")
        kd = known_depth.astype(np.float32)
        if not np.isfinite(kd[known_mask]).all() or (kd[known_mask] <= 0).any():
            raise ValueError("known_depth has NaN, inf or non-positive values inside known_mask")
        focal = self._focal(hw, K, fov_deg)
        scale = self._depth_scale(focal)  # known metric depth / scale = the model's (canonical) depth
        x_known = self._to_model((np.where(known_mask, kd, 1.0) / scale).astype(np.float32))
        vals, m_lo = masked_resize(x_known[..., None], known_mask, model_hw(self.config.resolution))
        known = torch.from_numpy(vals.transpose(2, 0, 1))[None].to(self.device, self.unet.dtype)  # (1, 1, h, w)
        km = torch.from_numpy(m_lo)[None, None].to(self.device)  # (1, 1, h, w)
        x = self._run(self._cond(rgb, focal, K), num_samples, num_inference_steps, generator, scheduler, batch_size,
                      known, km, resample)
        return self._finish(x, hw, scale, np.where(known_mask, kd, 0).astype(np.float32), known_mask)
