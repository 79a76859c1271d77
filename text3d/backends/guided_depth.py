"""Depth completion with a diffusers ``MarigoldDepthPipeline`` by test-time guidance (as published for Marigold-DC:
Viola et al., "Marigold-DC: Zero-Shot Monocular Depth Completion with Guided Diffusion", ICCV 2025).

At every denoising step the model's clean-latent estimate (the scheduler's ``pred_original_sample``) is decoded,
mapped to the target's unit by a learned scale and shift (``scale**2 * range * d + shift**2 * lower``, range and
lower from the known values, so both stay positive), and compared with the known values (L1 + L2 on the known
pixels). The loss gradient updates the depth latent (its norm rescaled to the norm of the step's noise estimate)
and the scale and shift (Adam); then the ordinary scheduler step moves the updated latent on. The result is a
dense prediction that both the model and the known depth agree with, not a prediction fitted afterwards.

Marigold predicts affine-invariant depth or disparity in [0, 1]; the caller passes the known values in the same
space (depth in metres, or 1 / depth for a disparity model) and gets dense values in that space back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class GuidanceSettings:
    """Adam learning rates of Marigold-DC: the depth latent, and the scale and shift."""

    latent_lr: float = 0.05
    affine_lr: float = 0.005


def _empty_text(pipe, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(1, n, c) the empty-prompt embedding Marigold is conditioned on (computed once, as the pipeline does)."""
    if pipe.empty_text_embedding is None:
        ids = pipe.tokenizer("", padding="do_not_pad", max_length=pipe.tokenizer.model_max_length,
                             truncation=True, return_tensors="pt").input_ids.to(device)
        pipe.empty_text_embedding = pipe.text_encoder(ids)[0]
    return pipe.empty_text_embedding.to(device=device, dtype=dtype)


def _epsilon_norm(sched, noise: torch.Tensor, latent: torch.Tensor, t) -> float:
    """Norm of the noise estimate of this step (the model predicts v or epsilon), the guidance gradient's size."""
    kind = sched.config.prediction_type
    if kind == "v_prediction":
        a = sched.alphas_cumprod[int(t)].to(latent.device, torch.float32)
        eps = a.sqrt() * noise.float() + (1 - a).sqrt() * latent.float()
        return float(torch.linalg.norm(eps))
    return float(torch.linalg.norm(noise.float()))


@torch.no_grad()
def _prepare(pipe, image: np.ndarray, processing_resolution: int | None, generator: torch.Generator | None,
             samples: int):
    """The image latent (k, 4, h, w), initial noise latents (k, 4, h, w), padding and the original (H, W)."""
    device, dtype = pipe._execution_device, pipe.dtype
    res = processing_resolution or pipe.default_processing_resolution
    x, padding, original = pipe.image_processor.preprocess(image, res, "bilinear", device)  # (1, 3, PH, PW) float32
    image_latent, noise = pipe.prepare_latents(x.to(dtype), None, generator, samples, 1)  # (k, 4, h, w) each
    return image_latent, noise, padding, original


def guided_completion(pipe, image: np.ndarray, known: np.ndarray, mask: np.ndarray, *, steps: int,
                      samples: int = 1, generator: torch.Generator | None = None,
                      processing_resolution: int | None = None,
                      settings: GuidanceSettings = GuidanceSettings()) -> np.ndarray:
    """Dense values (k, H, W) float32 in the unit of ``known`` (one per sample).

    image: (H, W, 3) float32 [0, 1]; known: (H, W) float32 positive target values (depth, or disparity for a
    disparity model) valid on ``mask`` (H, W) bool, at least two pixels; steps: denoising steps; samples: independent
    guided runs (each from its own noise). The model's weights are not changed.
    """
    device, dtype = pipe._execution_device, pipe.dtype
    image_latent, noise, padding, original = _prepare(pipe, image, processing_resolution, generator, samples)
    target = torch.from_numpy(np.asarray(known, np.float32)).to(device)
    m = torch.from_numpy(np.asarray(mask, bool)).to(device)
    lower, span = float(target[m].min()), max(float(target[m].max() - target[m].min()), 1e-6)
    with torch.no_grad():
        text = _empty_text(pipe, device, dtype)

    def to_target(latent: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        """(H, W) values in the target's unit from a (1, 4, h, w) latent."""
        d = pipe.decode_prediction(latent.to(dtype)).float()  # (1, 1, PH, PW) in [0, 1]
        d = scale ** 2 * span * d + shift ** 2 * lower
        d = pipe.image_processor.unpad_image(d, padding)
        return pipe.image_processor.resize_antialias(d, original, "bilinear", is_aa=False)[0, 0]  # (H, W)

    out = []
    for k in range(samples):
        latent = torch.nn.Parameter(noise[k:k + 1].float())
        scale, shift = (torch.nn.Parameter(torch.ones(1, device=device)) for _ in range(2))
        opt = torch.optim.Adam([{"params": [latent], "lr": settings.latent_lr},
                                {"params": [scale, shift], "lr": settings.affine_lr}])
        sched = pipe.scheduler
        sched.set_timesteps(int(steps), device=device)
        for t in sched.timesteps:
            opt.zero_grad()
            pred = pipe.unet(torch.cat([image_latent[k:k + 1], latent.to(dtype)], 1), t,
                             encoder_hidden_states=text, return_dict=False)[0]  # (1, 4, h, w)
            # the clean-latent preview on a copy: a stateful scheduler (LCM) advances once per step, below
            preview = copy.deepcopy(sched).step(pred, t, latent.to(dtype), generator=generator)
            err = to_target(preview.pred_original_sample, scale, shift)[m] - target[m]
            (err.abs().mean() + (err ** 2).mean()).backward()
            with torch.no_grad():
                latent.grad *= _epsilon_norm(sched, pred, latent, t) / max(float(torch.linalg.norm(latent.grad)), 1e-8)
            opt.step()
            with torch.no_grad():
                step = sched.step(pred.detach(), t, latent.detach().to(dtype), generator=generator)
                latent.data = step.prev_sample.float()
        with torch.no_grad():
            out.append(to_target(latent, scale, shift).cpu().numpy())
    return np.stack(out).astype(np.float32)
