"""Reverse-diffusion sampling with diffusers DDIM / DPM-Solver++ and known-pixel imputation.

Samplers are built from the training ``DDPMScheduler`` config (same betas and prediction type) with
``timestep_spacing="trailing"`` so the first step starts from t = T - 1 (pure noise under the cosine
schedule) even with few steps.

Known-pixel imputation (completion / inpainting): at every step the known region of x_t is replaced by the
known values noised to the current level with the forward process (``DDPMScheduler.add_noise``, fresh
noise each time), the model is run on the merged x_t, and the scheduler steps. ``resample`` > 0 adds
RePaint-style jumps: after a step t -> t', x_t' is re-noised back to t and the step repeated, letting the
generated region harmonise with the known one (DDIM only: DPM-Solver's multistep state cannot be rewound).
At the end known pixels are set exactly to the known values.

Randomness: one CPU generator per sample (seeded from the caller's generator), so a batch of samples equals
the same samples drawn one by one, whatever the chunk size.
"""

from __future__ import annotations

from typing import Any

import torch

from depthgen.models.unet import unet_forward


def make_sampler(train_config: Any, kind: str = "ddim", set_alpha_to_one: bool = True, clip_sample: bool = True):
    """The project's one sampler factory: a DDIM (``ddim``, eta 0) or DPM-Solver++ multistep (``dpm``)
    scheduler with trailing timesteps, from a training scheduler config. ``set_alpha_to_one``: DDIM's last step
    goes to alpha 1 (the depth models) or to the first training alpha (the image models, as they were trained
    and measured). ``clip_sample``: DDIM clips each x0 estimate to [-1, 1], right for samples that live there
    (depth, pixels); an unbounded space (normalised autoencoder latents, 30% of whose values lie beyond +-1)
    needs False, or every step flattens the sample towards grey."""
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

    cfg = dict(train_config)
    if kind == "ddim":
        return DDIMScheduler.from_config(cfg, timestep_spacing="trailing", clip_sample=clip_sample,
                                         set_alpha_to_one=set_alpha_to_one)
    if kind == "dpm":
        keep = {k: v for k, v in cfg.items() if k not in ("clip_sample", "clip_sample_range", "variance_type")}
        return DPMSolverMultistepScheduler.from_config(keep, timestep_spacing="trailing", algorithm_type="dpmsolver++",
                                                       solver_order=2)
    raise ValueError(f"scheduler must be 'ddim' or 'dpm', got {kind!r}")


def resolve_generator(generator: torch.Generator | None) -> torch.Generator:
    """Every pipeline's rule for ``generator=None`` (the diffusers one): draw from torch's global RNG, so a
    call is random unless ``torch.manual_seed`` was set before it; returns a CPU generator seeded from that
    RNG. A given generator is returned as it is."""
    if generator is not None:
        return generator
    return torch.Generator("cpu").manual_seed(int(torch.randint(0, 2 ** 62, (1,)).item()))


def sample_generators(generator: torch.Generator | None, n: int) -> list[torch.Generator]:
    """``n`` independent CPU generators seeded from ``generator`` (any device; None: ``resolve_generator``)."""
    g = resolve_generator(generator)
    seeds = torch.randint(0, 2 ** 62, (n,), generator=g, device=g.device).cpu()
    return [torch.Generator().manual_seed(int(s)) for s in seeds]


def _randn(shape: tuple[int, ...], gens: list[torch.Generator], like: torch.Tensor) -> torch.Tensor:
    """(B, ...) standard normal noise, row i drawn from ``gens[i]`` on the CPU, moved like ``like``."""
    rows = [torch.randn((1, *shape[1:]), generator=g) for g in gens]
    return torch.cat(rows).to(device=like.device, dtype=like.dtype)


@torch.no_grad()
def sample(unet: torch.nn.Module, train_scheduler: Any, cond: torch.Tensor, channels: int, generators: list[torch.Generator],
           num_inference_steps: int = 20, kind: str = "ddim", task: torch.Tensor | None = None,
           known: torch.Tensor | None = None, known_mask: torch.Tensor | None = None, resample: int = 0) -> torch.Tensor:
    """Draw one sample per row of ``cond``.

    cond (B, 4, H, W) in [-1, 1]; generators: B CPU generators; task (B,) long or None.
    known (B, C, H, W) in [-1, 1] and known_mask (B, 1, H, W) bool: pixels to keep (optional).
    Returns (B, C, H, W) float32 in [-1, 1].
    """
    if num_inference_steps < 1:
        raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
    if resample < 0:
        raise ValueError(f"resample must be >= 0, got {resample}")
    if resample and kind != "ddim":
        raise ValueError("resample > 0 needs scheduler='ddim' (DPM-Solver's multistep state cannot be rewound)")
    if len(generators) != cond.shape[0]:
        raise ValueError("need one generator per sample")
    sched = make_sampler(train_scheduler.config, kind)
    sched.set_timesteps(num_inference_steps, device=cond.device)
    b, _, h, w = cond.shape
    x = _randn((b, channels, h, w), generators, cond) * sched.init_noise_sigma
    alphas = train_scheduler.alphas_cumprod.to(cond.device)
    timesteps = list(sched.timesteps)
    m = known_mask.to(cond.device).bool() if known_mask is not None else None
    for i, t in enumerate(timesteps):
        t_b = torch.full((b,), int(t), device=cond.device, dtype=torch.long)
        for r in range(resample + 1):
            if known is not None:
                noised = train_scheduler.add_noise(known, _randn(x.shape, generators, x), t_b)
                x = torch.where(m, noised, x)
            model_in = sched.scale_model_input(x, t)
            pred = unet_forward(unet, cond, model_in, t_b, task).to(x.dtype)
            x_prev = sched.step(pred, t, x).prev_sample
            last = i == len(timesteps) - 1
            if r < resample and not last:
                # RePaint jump: x_t = sqrt(a_t / a_prev) x_prev + sqrt(1 - a_t / a_prev) z
                t_prev = int(timesteps[i + 1])
                ratio = (alphas[int(t)] / alphas[t_prev]).to(x.dtype)
                x = ratio.sqrt() * x_prev + (1 - ratio).sqrt() * _randn(x.shape, generators, x)
            else:
                x = x_prev
                break
    x = x.clamp(-1, 1)
    if known is not None:
        x = torch.where(m, known.to(x.dtype), x)
    return x
