"""Train the embedded text-to-image model on the shared trainer (``depthgen.training.trainer``).

    python -m text3d.models.t2i.train --config configs/models/t2i/t2i.yaml [key=value ...] [--resume] [--max-steps N] [--export DIR]
    python -m text3d.models.t2i.train --export-only --from CKPT --out DIR   # CKPT: checkpoint dir or output_dir

``T2ITask`` supplies the UNet, the batches (captioned images in memory; caption dropped to the null embedding
with probability ``diffusion.text_dropout`` for classifier-free guidance) and the loss (MSE of the
scheduler's prediction target). Every draw (images, flips, captions, dropout, timesteps, noise) comes from the
trainer's generator for the global batch, so ``--resume`` and multi-process runs are exact.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch

from depthgen.training import cli as train_cli
from depthgen.models.diffusion import make_train_scheduler, sample_timesteps
from depthgen.training.trainer import global_batches
from text3d.models.t2i import model as t2i_model
from text3d.models.t2i.config import T2IRecipe
from text3d.models.t2i.data import CaptionBank, load_training_data, sample_batch
from text3d.models.t2i.export import export_pipeline, training_card
from text3d.models.t2i.text_encoder import load_text_encoder


def denoising_mse(noise_scheduler, forward: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x0: torch.Tensor,
                  t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """MSE between ``forward(x_t, t)`` and the scheduler's prediction target for x0 (B, C, H, W) noised to t."""
    x_t = noise_scheduler.add_noise(x0, noise, t)
    kind = noise_scheduler.config.prediction_type
    target = {"epsilon": noise, "sample": x0}.get(kind)
    if target is None:
        target = noise_scheduler.get_velocity(x0, noise, t)
    return torch.nn.functional.mse_loss(forward(x_t, t).float(), target.float())


def training_step(unet: torch.nn.Module, noise_scheduler, x0: torch.Tensor, text: torch.Tensor,
                  generator: torch.Generator, t_shift: float = 1.0) -> torch.Tensor:
    """Diffusion loss (MSE) on one batch, drawing its timesteps and noise. x0 (B, 3, H, W) in [-1, 1];
    text (B, 384). ``t_shift`` > 1 draws the timesteps nearer pure noise, where a prompt's layout is decided."""
    t = sample_timesteps(x0.shape[0], noise_scheduler.config.num_train_timesteps, t_shift, generator)
    noise = torch.randn(x0.shape, generator=generator)
    return denoising_mse(noise_scheduler, lambda x_t, tt: t2i_model.unet_forward(unet, x_t, tt, text),
                         x0, t.to(x0.device), noise.to(x0.device))


class T2ITask:
    """``depthgen.training.trainer.TrainingTask`` of the text-to-image model (``text3d.models.inpaint`` extends it)."""

    def __init__(self, recipe: T2IRecipe):
        self.recipe = recipe
        self.noise_scheduler = make_train_scheduler(recipe.diffusion)

    @functools.cached_property
    def data(self):
        """The captioned training images, read when training starts (not for an export)."""
        r = self.recipe
        return load_training_data(r.data, r.model.sample_size, seed=r.train.seed)

    @functools.cached_property
    def bank(self) -> CaptionBank:
        """Caption embeddings, cached in ``output_dir`` (the encoder is freed afterwards: ~90 MB)."""
        cache = Path(self.recipe.train.output_dir) / "caption_embeddings.safetensors"
        bank = CaptionBank.build(self.data.captions, load_text_encoder(), cache)
        load_text_encoder.cache_clear()
        return bank

    def images_seen(self) -> int | None:
        """Size of the training set when it was loaded (for the model card), else None."""
        return len(self.__dict__["data"]) if "data" in self.__dict__ else None

    def build_model(self) -> torch.nn.Module:
        return t2i_model.build_unet(self.recipe.model, seed=self.recipe.train.seed)

    def load_init(self, model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
        try:
            t2i_model.load_widened(model, state)
        except RuntimeError as e:
            raise ValueError(f"{source}: weights do not fit this model ({str(e).splitlines()[0]})") from None

    def draw(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``n`` examples: x0 (n, 3, S, S) in [-1, 1], text (n, 384), t (n,), noise like x0."""
        r = self.recipe
        x0, text = sample_batch(self.data, self.bank, n, generator, r.data.hflip, r.diffusion.text_dropout)
        t = sample_timesteps(n, r.diffusion.num_train_timesteps, r.diffusion.t_shift, generator)
        return {"x0": x0, "text": text, "t": t, "noise": torch.randn(x0.shape, generator=generator)}

    def batches(self, generator: torch.Generator, start_step: int, rank: int,
                world_size: int) -> Iterator[dict[str, torch.Tensor]]:
        return global_batches(self.draw, self.recipe.train.batch_size, generator, rank, world_size)

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        text = batch["text"]
        return denoising_mse(self.noise_scheduler, lambda x_t, t: t2i_model.unet_forward(model, x_t, t, text),
                             batch["x0"], batch["t"], batch["noise"])

    def latent_components(self) -> dict | None:
        """A latent model's ``vae`` and latent statistics for its pipeline (None for a pixel model)."""
        r = self.recipe
        if not r.model.latent_channels:
            return None
        from text3d.models.autoencoder import TinyAutoencoder
        from text3d.models.autoencoder.encode import read_statistics

        mean, std = read_statistics(r.data.path)
        return {"vae": TinyAutoencoder.from_pretrained(r.model.autoencoder).eval(),
                "latents_mean": mean.tolist(), "latents_std": std.tolist()}

    def export(self, model: torch.nn.Module, target: Path, step: int) -> Path:
        r = self.recipe
        return export_pipeline(model, self.noise_scheduler.config, target, dtype=r.train.export_dtype,
                               card=training_card(r, step, self.images_seen()), latent=self.latent_components(),
                               guidance_scale=r.diffusion.guidance_scale)


def main(argv: Sequence[str] | None = None) -> int:
    return train_cli.main("python -m text3d.models.t2i.train", __doc__.split("\n\n")[0], T2IRecipe, T2ITask, argv)


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
