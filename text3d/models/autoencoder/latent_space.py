"""``LatentSpaceMixin``: the model space of the embedded image pipelines, pixels or autoencoder latents.

A pixel pipeline's UNet denoises (n, 3, S, S) images in [-1, 1]. A latent pipeline's UNet denoises
(n, C, S, S) latents of ``vae`` (``TinyAutoencoder``), each channel normalised by the ``latents_mean`` /
``latents_std`` (C,) of its training cache (saved in ``model_index.json``); its images are 8 S x 8 S. Both the
text-to-image and the inpainting pipeline go through these methods, so the conversion exists once.
"""

from __future__ import annotations

from pathlib import Path

import torch

from text3d.models.autoencoder.model import DOWNSCALE


class LatentSpaceMixin:
    """For a ``DiffusionPipeline`` with ``unet``, an optional ``vae`` module and ``latents_mean`` /
    ``latents_std`` in its config."""

    model_cpu_offload_seq = "unet->vae"
    _optional_components = ["vae"]

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """The base loader; a folder's ``vae/`` is loaded as a ``TinyAutoencoder`` (diffusers does not know the
        class)."""
        vae_dir = Path(pretrained_model_name_or_path) / "vae"
        if vae_dir.is_dir() and "vae" not in kwargs:
            from text3d.models.autoencoder import TinyAutoencoder

            kwargs["vae"] = TinyAutoencoder.from_pretrained(str(vae_dir)).eval()
        return super().from_pretrained(pretrained_model_name_or_path, **kwargs)

    def register_latent_space(self, unet, vae, latents_mean, latents_std) -> None:
        """Register ``vae`` and the latent statistics of a latent ``unet`` (``out_channels`` other than 3); a
        pixel UNet registers none (ValueError when a latent UNet lacks any of them)."""
        latent = int(unet.config.out_channels) != 3
        if latent and (vae is None or latents_mean is None or latents_std is None):
            raise ValueError("a latent UNet needs its vae (TinyAutoencoder) and latents_mean / latents_std")
        self.register_modules(vae=vae if latent else None)
        self.register_to_config(latents_mean=[float(v) for v in latents_mean] if latent else None,
                                latents_std=[float(v) for v in latents_std] if latent else None)

    @property
    def is_latent(self) -> bool:
        return getattr(self, "vae", None) is not None

    @property
    def image_size(self) -> int:
        """Side of the images the model makes, in pixels: the UNet's sample size, times 8 for a latent model."""
        size = int(self.unet.config.sample_size)
        return size * DOWNSCALE if self.is_latent else size

    def make_sampler(self, name: str):
        """A fresh sampler (``ddim`` | ``dpm``) for this pipeline's model space: pixel images live in [-1, 1] and
        DDIM clips its x0 estimates there; normalised latents do not (about 30% of the training latents' values
        lie beyond +-1), so a latent pipeline's sampler leaves them unclipped."""
        from text3d.models.t2i.pipeline import make_scheduler  # the pipelines import this module

        return make_scheduler(self.scheduler.config, name, clip_sample=not self.is_latent)

    def _statistics(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        mean = torch.tensor(self.config.latents_mean, device=device, dtype=torch.float32)[:, None, None]
        std = torch.tensor(self.config.latents_std, device=device, dtype=torch.float32)[:, None, None]
        return mean, std

    @torch.no_grad()
    def images_to_model(self, images: torch.Tensor) -> torch.Tensor:
        """Images (n, 3, H, W) in [-1, 1] (H = W = ``image_size``) -> model-space x0 (n, C, S, S) float32."""
        if not self.is_latent:
            return images.float()
        mean, std = self._statistics(images.device)
        z = self.vae.encode(((images.float() + 1) / 2).clamp(0, 1)).float()
        return (z - mean) / std

    @torch.no_grad()
    def model_to_images(self, x: torch.Tensor) -> torch.Tensor:
        """Model-space samples (n, C, S, S) -> images (n, 3, H, W) float32 in [0, 1]."""
        if not self.is_latent:
            return (x.float().clamp(-1, 1) + 1) / 2
        mean, std = self._statistics(x.device)
        return self.vae.decode(x.float() * std + mean).float()
