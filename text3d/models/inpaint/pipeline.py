"""``TextInpaintPipeline``: (image, hole mask, prompt) -> the image with the hole painted, known pixels kept.

A diffusers ``DiffusionPipeline`` with ``unet`` (``UNet2DConditionModel``, see ``text3d.models.inpaint.model``)
and ``scheduler`` (its training schedule, stored as a DDIM config). The text encoder is the text-to-image
model's (named in ``model_index.json``, loaded from its package). A latent model also holds ``vae`` and its
latent statistics (``text3d.models.autoencoder.latent_space``): the known image is encoded at 8x the UNet's
size, with the hole filled by the mean known colour; the mask goes to the latent grid (a cell is a hole when
any of its pixels is, grown by one cell, since each latent sees its neighbours' pixels); the hole is painted
in latent space and decoded, and the known pixels are pasted back at full resolution.

Sampling: DDIM with classifier-free guidance (``guidance_scale``; 0 = the unconditional prediction, 1 = the
conditional one). After every step the known region of x_t is replaced by the known image noised to the
next timestep with the run's own initial noise, so the new content is drawn to agree with what is known
right up to the seam; the returned image equals the input outside the hole exactly.

Layouts: a folder may hold a ``layout_bank.safetensors`` (``text3d.models.t2i.layout_bank``, as the
text-to-image model's). With ``layout_strength`` below 1 the hole starts from a training layout retrieved by
the prompt (walls, floor, furniture blocks where a room of that kind has them), noised to that point of the
schedule, instead of from pure noise; only the last ``layout_strength`` of the schedule is run. The default
is saved in ``model_index.json`` (1 = pure noise).

Caption prior: a folder may hold a ``caption_prior.safetensors`` (``text3d.models.t2i.caption_prior``): the
prompt's embedding is then moved toward its nearest training captions by ``caption_prior_strength`` (saved in
``model_index.json``; 0 for a folder that names none) before painting.
"""

from __future__ import annotations


from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from depthgen.models.sampling import resolve_generator
from text3d.models.inpaint.blend import blend_seam
from text3d.models.inpaint.model import masked_image, unet_forward
from text3d.models.autoencoder.latent_space import LatentSpaceMixin
from text3d.models.loading import LocalPipeline, checked_number
from text3d.models.t2i.caption_prior import CaptionPrior, CaptionPriorMixin, check_prior_strength
from text3d.models.t2i.layout_bank import (LayoutBank, LayoutBankMixin, check_layout_transform, check_strength,
                                           schedule_tail, warp_layouts)
from text3d.models.t2i.text_encoder import ENCODER_NAME, load_text_encoder

GUIDANCE_SCALE = 6.0  # chosen on the dev prompts (docs/training/inpaint.md); saved with every exported model
SEAM_WIDTH = 4.0  # model pixels (chosen on the dev prompts); see text3d.models.inpaint.blend


def check_guidance(scale: float) -> float:
    """``scale`` as a float when it is a finite number >= 0, else ``ValueError``."""
    return checked_number(scale, "inpainting guidance scale")


def check_seam_width(width: float) -> float:
    """``width`` (model pixels) as a float when it is a finite number >= 0, else ``ValueError``."""
    return checked_number(width, "inpainting seam width")


def _to_model(image: np.ndarray, mask: np.ndarray, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(H, W, 3) [0, 1] image and (H, W) bool mask -> (1, 3, S, S) [-1, 1] and (1, 1, S, S) {0, 1}.

    A pixel at size S is a hole when any image pixel it covers is one."""
    x = torch.from_numpy(np.ascontiguousarray(image, np.float32)).permute(2, 0, 1)[None] * 2 - 1
    m = torch.from_numpy(np.ascontiguousarray(mask, np.float32))[None, None]
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bicubic", antialias=True, align_corners=False).clamp(-1, 1)
        m = (F.interpolate(m, size=(size, size), mode="area") > 0).float()
    return x, m


@dataclass
class TextInpaintOutput:
    """image: (H, W, 3) float32 in [0, 1]; layout: the layout-bank index the hole started from, or None."""

    image: np.ndarray
    layout: int | None


class TextInpaintPipeline(CaptionPriorMixin, LayoutBankMixin, LatentSpaceMixin, LocalPipeline):
    """Text-conditioned inpainting sampler of the embedded model (see the module docstring)."""

    def __init__(self, unet, scheduler, text_encoder_name: str = ENCODER_NAME, guidance_scale: float = GUIDANCE_SCALE,
                 seam_width: float = SEAM_WIDTH, layout_strength: float = 1.0,
                 layout_bank: LayoutBank | None = None, vae=None, latents_mean: Sequence[float] | None = None,
                 latents_std: Sequence[float] | None = None, caption_prior_strength: float = 0.0,
                 caption_prior: CaptionPrior | None = None):
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler)
        self.register_latent_space(unet, vae, latents_mean, latents_std)
        self.register_to_config(text_encoder_name=text_encoder_name, guidance_scale=check_guidance(guidance_scale),
                                seam_width=check_seam_width(seam_width),
                                layout_strength=check_strength(layout_strength),
                                caption_prior_strength=check_prior_strength(caption_prior_strength))
        self.layout_bank = layout_bank  # not a diffusers module: saved and loaded by LayoutBankMixin
        self.caption_prior = caption_prior  # likewise, by CaptionPriorMixin

    def encode_prompt(self, prompt: str) -> torch.Tensor:
        """(1, 384) float32 unit embedding (zeros for an empty prompt)."""
        return load_text_encoder(self.config.text_encoder_name, "cpu").encode([prompt])

    def __call__(self, image: np.ndarray, mask: np.ndarray, prompt: str, **kwargs) -> np.ndarray:
        """``paint(image, mask, prompt, **kwargs).image``: (H, W, 3) float32 in [0, 1]."""
        return self.paint(image, mask, prompt, **kwargs).image

    @torch.no_grad()
    def paint(self, image: np.ndarray, mask: np.ndarray, prompt: str, num_inference_steps: int = 20,
              guidance_scale: float | None = None, generator: torch.Generator | None = None,
              text_embedding: torch.Tensor | None = None, scheduler: str = "ddim",
              seam_width: float | None = None, layout_strength: float | None = None,
              layout_transform: np.ndarray | None = None,
              caption_prior_strength: float | None = None) -> "TextInpaintOutput":
        """Paint the hole of one image.

        image: (H, W, 3) float32 in [0, 1], any size (sampled at the model's resolution, then resized back);
        mask: (H, W) bool, True = paint; prompt: what the view shows ("" = unconditional);
        guidance_scale: None = the saved default; generator: None draws from torch's global RNG
        (``depthgen.models.sampling.resolve_generator``).
        text_embedding: optional precomputed (1, 384) embedding of ``prompt`` (``encode_prompt``; skips the
        encoder, the caption prior still applies).
        seam_width: decay length, in pixels at the model's image size (``image_size``), of the border colour
        correction (``text3d.models.inpaint.blend``; 0 = plain paste, None = the saved default).
        layout_strength: None = the saved default; 1 = the hole starts from pure noise; below 1 it starts from
        a layout of the bank retrieved by the prompt, that far into the schedule (the generator draws the
        noise first, then the pick among the nearest layouts).
        layout_transform: None, or a (3, 3) homography from a level camera's picture to this image (pixel
        coordinates of ``image``, centres at +0.5; ``text3d.run.trajectory.level_view_homography``): the layout,
        a level picture of the prompted scene, is warped by it first, so a view tilted down starts from floor
        and one tilted up from ceiling or sky. Ignored at strength 1.
        caption_prior_strength: None = the saved default; how far the prompt's embedding moves toward its
        nearest training captions (0 = not at all; above 0 needs the folder's caption prior).
        Returns ``TextInpaintOutput``: ``image`` (H, W, 3) float32 in [0, 1], equal to ``image`` where ``mask`` is
        False, and ``layout``, the bank index the hole started from (None from pure noise).
        """
        if not isinstance(prompt, str):
            raise ValueError(f"the inpainting prompt must be a string (\"\" for none), got {type(prompt).__name__}")
        if int(num_inference_steps) < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
        scale = check_guidance(self.config.guidance_scale if guidance_scale is None else guidance_scale)
        width = check_seam_width(self.config.seam_width if seam_width is None else seam_width)
        strength = self._layout_strength(layout_strength)
        transform = check_layout_transform(layout_transform)
        image = np.asarray(image, np.float32)
        mask = np.asarray(mask, bool)
        if image.ndim != 3 or image.shape[2] != 3 or mask.shape != image.shape[:2]:
            raise ValueError(f"need an (H, W, 3) image and an (H, W) mask, got {image.shape} and {mask.shape}")
        if not mask.any():
            return TextInpaintOutput(image.copy(), None)
        device, dtype = self.unet.device, self.unet.dtype
        size = self.image_size
        known, m = self._known_in_model_space(*_to_model(image, mask, size))
        known, m = known.to(device, dtype), m.to(device, dtype)
        cond = masked_image(known, m)
        text = self.encode_prompt(prompt) if text_embedding is None else text_embedding.float().cpu()
        text = self.apply_caption_prior(text, caption_prior_strength).to(device, dtype)  # (1, 384)
        g = resolve_generator(generator)
        noise = torch.randn(tuple(known.shape), generator=g, device=g.device).to(device, dtype)
        sched = self.make_sampler(scheduler)
        warp = None if transform is None else (lambda layouts: warp_layouts(layouts, transform, image.shape[:2]))
        x, timesteps, layout = self._start(sched, int(num_inference_steps), strength, known, m, noise, text, g, warp)
        x = self._denoise(x, sched, timesteps, text, scale, m, cond, known, noise)
        painted = self.model_to_images(x)  # (1, 3, size, size) in [0, 1]
        if painted.shape[-2:] != image.shape[:2]:
            painted = F.interpolate(painted, size=image.shape[:2], mode="bicubic", align_corners=False).clamp(0, 1)
        painted = painted[0].permute(1, 2, 0).cpu().numpy()
        return TextInpaintOutput(blend_seam(image, painted, mask, width * image.shape[0] / size), layout)

    def _known_in_model_space(self, known: torch.Tensor, m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The known image (1, 3, P, P) in [-1, 1] and hole mask (1, 1, P, P) at the image size P -> the known
        sample (1, C, S, S) and the mask (1, 1, S, S) in model space (the same tensors for a pixel model)."""
        if not self.is_latent:
            return known, m
        hole = m.bool().expand_as(known)
        seen = (~hole).sum((2, 3), keepdim=True).clamp(min=1)
        mean_colour = known.masked_fill(hole, 0).sum((2, 3), keepdim=True) / seen
        latent = self.images_to_model(torch.where(hole, mean_colour, known))
        s = latent.shape[-1]
        m = (F.interpolate(m, size=(s, s), mode="area") > 0).float()
        return latent, F.max_pool2d(m, 3, stride=1, padding=1)  # grown by one latent cell

    def _denoise(self, x: torch.Tensor, sched, timesteps: list, text: torch.Tensor, scale: float, m: torch.Tensor,
                 cond: torch.Tensor, known: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Run ``timesteps`` from x (1, C, S, S) with guidance ``scale`` against the null text, keeping the known
        region (m = 0) on the known image's own noisy trajectory. Returns the final x."""
        guided = scale != 1.0
        texts = torch.cat([text, torch.zeros_like(text)]) if guided else text
        for i, t in enumerate(timesteps):
            inp = sched.scale_model_input(torch.cat([x, x]) if guided else x, t)
            tt = torch.full((inp.shape[0],), int(t), device=x.device, dtype=torch.long)
            n = inp.shape[0]
            out = unet_forward(self.unet, inp, tt, texts, m.expand(n, -1, -1, -1), cond.expand(n, -1, -1, -1))
            if guided:
                c, u = out.chunk(2)
                out = u + scale * (c - u)
            x = sched.step(out, t, x).prev_sample
            if i + 1 < len(timesteps):
                x = m * x + (1 - m) * sched.add_noise(known, noise, timesteps[i + 1][None])
        return x

    def _start(self, sched, steps: int, strength: float, known: torch.Tensor, m: torch.Tensor,
               noise: torch.Tensor, text: torch.Tensor, g: torch.Generator,
               warp=None) -> tuple[torch.Tensor, list, int | None]:
        """The starting x (1, C, S, S), the timesteps to run and the layout picked. Strength 1: pure noise, every step. Below 1:
        the hole (m = 1) holds the layout the generator picks among the prompt's nearest (passed through
        ``warp``, when given) and the rest the known image, noised to the first timestep run (no pick at strength 1)."""
        sched.set_timesteps(steps, device=noise.device)
        if strength >= 1:
            return noise * sched.init_noise_sigma, list(sched.timesteps), None
        timesteps = list(schedule_tail(sched, strength))
        pick = self.layout_bank.pick(text.float().cpu(), [g])
        layout = self.layout_bank.images(pick, self.image_size)
        layout = self.images_to_model((layout if warp is None else warp(layout)).to(known.device))
        layout = layout.to(known.device, known.dtype)
        return sched.add_noise(m * layout + (1 - m) * known, noise, timesteps[0][None]), timesteps, int(pick[0])
