"""``TextToImagePipeline``: prompt(s) -> (H, W, 3) float32 images in [0, 1] with classifier-free guidance.

A diffusers ``DiffusionPipeline`` with two components, ``unet`` (``UNet2DConditionModel``) and ``scheduler``
(its training noise schedule, stored as a ``DDIMScheduler`` config). The text encoder is not saved: the
folder records its name (``text_encoder_name`` in ``model_index.json``) and it is loaded from the installed
package (``text3d.models.t2i.text_encoder``). ``save_pretrained`` writes safetensors.

A latent model (``unet.config.out_channels`` > 3) also holds ``vae``, the ``TinyAutoencoder`` it decodes with
(``text3d.models.autoencoder``), and the per-channel ``latents_mean`` / ``latents_std`` its latents were
normalised by in training (``model_index.json``); it then returns the decoded images (8x its sample size).

A folder may also hold a ``layout_bank.safetensors`` (``text3d.models.t2i.layout_bank``): then sampling with
``layout_strength`` below 1 starts from a noised training layout retrieved by the prompt instead of from pure
noise. ``layout_strength`` is the fraction of the schedule that is run (1 = plain text-to-image); its
default is saved in ``model_index.json``, as is ``guidance_scale``, the classifier-free guidance a model samples
with unless told otherwise (3 for a folder that does not name one).

A folder may hold a ``caption_prior.safetensors`` (``text3d.models.t2i.caption_prior``): then the prompt's
embedding is moved toward its nearest training captions by ``caption_prior_strength`` (saved in
``model_index.json``; 0, the prompt as it is, for a folder that names none) before sampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from depthgen.models.sampling import make_sampler, resolve_generator

from text3d.models.autoencoder.latent_space import LatentSpaceMixin
from text3d.models.loading import LocalPipeline
from text3d.models.t2i.caption_prior import CaptionPrior, CaptionPriorMixin, check_prior_strength
from text3d.models.t2i.layout_bank import LayoutBank, LayoutBankMixin, check_strength, schedule_tail
from text3d.models.t2i.model import unet_forward
from text3d.models.t2i.text_encoder import ENCODER_NAME, load_text_encoder

SCHEDULERS = ("ddim", "dpm")
GUIDANCE_SCALE = 3.0  # the default of a folder that saves none (chosen on the dev prompts for the pixel model)


def make_scheduler(config, name: str, clip_sample: bool = True):
    """The sampler of the embedded image models: ``depthgen.models.sampling.make_sampler`` (``ddim`` | ``dpm``) with
    DDIM's final alpha at the first training alpha; ``clip_sample`` False for a latent model (see
    ``LatentSpaceMixin.make_sampler``)."""
    if name not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {name!r}")
    return make_sampler(config, name, set_alpha_to_one=False, clip_sample=clip_sample)


def _generators(generator, n: int) -> list[torch.Generator]:
    if generator is None or isinstance(generator, torch.Generator):
        generator = resolve_generator(generator)
        return [generator] * n
    generator = list(generator)
    if len(generator) != n:
        raise ValueError(f"got {len(generator)} generators for {n} images; pass one generator or one per image")
    return generator


@dataclass
class TextToImageOutput:
    """images: (H, W, 3) float32 arrays in [0, 1]; layouts: the layout-bank index each image started from, or
    None when sampling started from pure noise."""

    images: list[np.ndarray]
    layouts: list[int] | None


class TextToImagePipeline(CaptionPriorMixin, LayoutBankMixin, LatentSpaceMixin, LocalPipeline):
    """Text-conditioned diffusion sampler for the embedded model (see the module docstring)."""

    def __init__(self, unet, scheduler, text_encoder_name: str = ENCODER_NAME, layout_strength: float = 1.0,
                 layout_bank: LayoutBank | None = None, vae=None, latents_mean: Sequence[float] | None = None,
                 latents_std: Sequence[float] | None = None, guidance_scale: float = GUIDANCE_SCALE,
                 caption_prior_strength: float = 0.0, caption_prior: CaptionPrior | None = None):
        super().__init__()
        check_strength(layout_strength)
        _check_guidance(guidance_scale)
        self.register_modules(unet=unet, scheduler=scheduler)
        self.register_latent_space(unet, vae, latents_mean, latents_std)
        self.register_to_config(text_encoder_name=text_encoder_name, layout_strength=float(layout_strength),
                                guidance_scale=float(guidance_scale),
                                caption_prior_strength=check_prior_strength(caption_prior_strength))
        self.layout_bank = layout_bank  # not a diffusers module: saved and loaded by LayoutBankMixin
        self.caption_prior = caption_prior  # likewise, by CaptionPriorMixin

    @property
    def text_encoder(self):
        return load_text_encoder(self.config.text_encoder_name, "cpu")

    def encode_prompts(self, prompts: Sequence[str]) -> torch.Tensor:
        """(n, 384) float32 unit embeddings (zeros for empty prompts)."""
        return self.text_encoder.encode(list(prompts))

    @torch.no_grad()
    def sample(self, prompt: str | Sequence[str], num_inference_steps: int = 25, guidance_scale: float | None = None,
                 generator: torch.Generator | Sequence[torch.Generator] | None = None, scheduler: str = "ddim",
                 num_images_per_prompt: int = 1, progress: bool = False,
                 text_embeddings: torch.Tensor | None = None,
                 layout_strength: float | None = None,
                 caption_prior_strength: float | None = None) -> TextToImageOutput:
        """Sample images; the call (``pipe(prompt, ...)``) returns just ``.images`` of this.

        prompt: a string or a list; each gives ``num_images_per_prompt`` images, prompt-major order.
        generator: one ``torch.Generator`` for all images (drawn in order), or one per image (then a batch
        equals its items run one by one). None draws from torch's global RNG (``depthgen.models.sampling.resolve_generator``).
        guidance_scale: None = the saved default (``config.guidance_scale``); 1 disables guidance.
        text_embeddings: optional precomputed (n_prompts, 384) embeddings of ``encode_prompts`` (skips the
        encoder; the caption prior still applies).
        layout_strength: None = the saved default; 1 = start from pure noise; below 1, start that far into
        the schedule from a layout of the bank retrieved by the prompt (each generator first draws the noise,
        then the pick among the ``top_k`` nearest layouts).
        caption_prior_strength: None = the saved default; how far each prompt embedding moves toward its
        nearest training captions (0 = not at all; above 0 needs the folder's caption prior).
        Returns ``TextToImageOutput``: ``images``, a list of (H, W, 3) float32 arrays in [0, 1], H = W = the
        model's sample size (8x it for a latent model), and ``layouts``, the bank index each image started from
        (None from pure noise).
        """
        if guidance_scale is None:
            guidance_scale = self.config.guidance_scale
        prompts = _check_sampling_args(prompt, num_inference_steps, guidance_scale, num_images_per_prompt)
        strength = self._layout_strength(layout_strength)
        device, dtype = self.unet.device, self.unet.dtype
        cond = self.encode_prompts(prompts) if text_embeddings is None else text_embeddings.float().cpu()
        cond = self.apply_caption_prior(cond, caption_prior_strength)  # (n_prompts, 384)
        cond = cond.repeat_interleave(num_images_per_prompt, dim=0).to(device, dtype)  # (n, 384)
        gens = _generators(generator, cond.shape[0])
        x, sched, timesteps, picks = self._start_sampling(cond, gens, scheduler, int(num_inference_steps), strength)
        x = self._denoise(x, cond, sched, timesteps, guidance_scale, progress)
        images = self.model_to_images(x).permute(0, 2, 3, 1).cpu().numpy()  # (n, H, W, 3)
        return TextToImageOutput([np.ascontiguousarray(im, dtype=np.float32) for im in images], picks)

    def __call__(self, prompt: str | Sequence[str], **kwargs) -> list[np.ndarray]:
        """``sample(prompt, **kwargs).images``: a list of (H, W, 3) float32 images in [0, 1]."""
        return self.sample(prompt, **kwargs).images

    def _start_sampling(self, cond: torch.Tensor, gens: list[torch.Generator], scheduler: str, steps: int,
                        strength: float) -> tuple[torch.Tensor, object, torch.Tensor, list[int] | None]:
        """The starting latents (n, C, H, W), the scheduler, the timesteps to run and the layout picks.

        Each generator draws its image's noise first. Strength 1: scaled pure noise, all ``steps``. Below 1
        (img2img from retrieved layouts): only the last ``strength`` of the schedule is run, from the layout the
        generator picks among the prompt's nearest, noised to the first timestep run (picks None at strength 1).
        """
        device, dtype = self.unet.device, self.unet.dtype
        size = int(self.unet.config.sample_size)
        channels = int(self.unet.config.out_channels)
        x = torch.stack([torch.randn(channels, size, size, generator=g, device=g.device) for g in gens])
        x = x.to(device, dtype)  # (n, C, H, W) initial noise
        sched = self.make_sampler(scheduler)
        sched.set_timesteps(steps, device=device)
        timesteps = sched.timesteps
        if strength < 1:  # img2img from retrieved layouts: run only the last `strength` of the schedule
            timesteps = schedule_tail(sched, strength)
            picks = self.layout_bank.pick(cond.float().cpu(), gens)
            layouts = self.images_to_model(self.layout_bank.images(picks, self.image_size).to(device))
            x = sched.add_noise(layouts.to(device, dtype), x, timesteps[:1])
            return x, sched, timesteps, picks.tolist()
        return x * sched.init_noise_sigma, sched, timesteps, None

    def _denoise(self, x: torch.Tensor, cond: torch.Tensor, sched, timesteps: torch.Tensor,
                 guidance_scale: float, progress: bool) -> torch.Tensor:
        """Run ``timesteps`` from model-space x (n, C, S, S) with text embeddings cond (n, 384); classifier-free
        guidance against empty-prompt (zero) embeddings unless ``guidance_scale`` is 1. Returns the final x."""
        device = self.unet.device
        guided = guidance_scale != 1.0
        text = torch.cat([cond, torch.zeros_like(cond)]) if guided else cond  # (2n | n, 384)
        for t in self.progress_bar(timesteps) if progress else timesteps:
            inp = torch.cat([x, x]) if guided else x
            inp = sched.scale_model_input(inp, t)
            tt = torch.full((inp.shape[0],), int(t), device=device, dtype=torch.long)
            out = unet_forward(self.unet, inp, tt, text)
            if guided:
                c, u = out.chunk(2)
                out = u + guidance_scale * (c - u)
            x = sched.step(out, t, x).prev_sample
        return x


def _check_guidance(guidance_scale: float) -> None:
    if not isinstance(guidance_scale, (int, float)) or not np.isfinite(guidance_scale) or guidance_scale < 0:
        raise ValueError(f"guidance_scale must be a number >= 0, got {guidance_scale!r}")


def _check_sampling_args(prompt: str | Sequence[str], num_inference_steps: int, guidance_scale: float,
                         num_images_per_prompt: int) -> list[str]:
    """The prompts as a list, after checking the sampling arguments (ValueError saying what to pass)."""
    prompts = [prompt] if isinstance(prompt, str) else list(prompt)
    if not prompts or not all(isinstance(p, str) for p in prompts):
        raise ValueError("prompt must be a string or a non-empty list of strings")
    if int(num_inference_steps) < 1:
        raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
    _check_guidance(guidance_scale)
    if num_images_per_prompt < 1:
        raise ValueError(f"num_images_per_prompt must be >= 1, got {num_images_per_prompt}")
    return prompts
