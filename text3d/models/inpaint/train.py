"""Train the text-conditioned inpainting model on the shared trainer (``depthgen.training.trainer``).

    python -m text3d.models.inpaint.train --config configs/models/inpaint/inpaint.yaml [key=value ...] [--resume]
                                          [--max-steps N] [--export DIR]

Each example: a captioned procedural image, one of its captions (dropped to the null embedding with
probability ``diffusion.text_dropout`` for classifier-free guidance), a hole shaped like the trajectories'
(``masks``), a timestep and noise. The loss is the MSE of the scheduler's prediction target over the image.
Every draw comes from the trainer's generator for the global batch, so resume and multi-process runs are
exact (see ``depthgen.training.trainer``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

import torch

from depthgen.common.io import atomic_dir, weights_mb
from depthgen.training import cli as train_cli
from text3d.models.inpaint.config import InpaintRecipe
from text3d.models.inpaint.masks import draw_masks
from text3d.models.inpaint.model import build_unet, condition_channels, load_from_t2i, masked_image, unet_forward
from text3d.models.inpaint.pipeline import TextInpaintPipeline
from text3d.models.t2i.train import T2ITask, denoising_mse

CARD = """# Embedded text-conditioned inpainting model (text3d.models.inpaint)

Paints the part of a new text-to-3D view that no earlier view saw, from the known pixels, the hole mask
and the view's prompt. Loaded with `text3d.models.inpaint.TextInpaintPipeline.from_pretrained(this_folder)`.

- Architecture: the text-to-image model's `UNet2DConditionModel` ({params:,} parameters) with {extra} more
  input channels (hole mask, masked {space}), zero-initialised, started from `{init}`.{latent}
- Conditioning: the all-MiniLM-L6-v2 sentence embedding of the prompt; captions dropped with probability
  {dropout} in training; guidance scale {guidance} by default.
- Holes in training: {masks}.
- Training: {steps} steps, batch {batch}, AdamW lr {lr}, `{prediction}` prediction; data `{data}`.
- Weights: {dtype} safetensors ({size_mb:.1f} MB{vae_size}).

Limits: {size}x{size}; it knows the scene types of the procedural generator. Figures: docs/RESULTS.md
(`python -m bench.outpainting`); recipe: configs/models/inpaint/{recipe}.
"""


class InpaintTask(T2ITask):
    """``depthgen.training.trainer.TrainingTask`` of the text-conditioned inpainting model: the text-to-image
    task's data and loss, with a trajectory-shaped hole per example and the hole and the known pixels as inputs."""

    recipe: InpaintRecipe

    def build_model(self) -> torch.nn.Module:
        return build_unet(self.recipe.model, seed=self.recipe.train.seed)

    def load_init(self, model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
        try:
            load_from_t2i(model, state)
        except (RuntimeError, ValueError) as e:
            raise ValueError(f"{source}: weights do not fit this model ({str(e).splitlines()[0]})") from None

    def draw(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """The text-to-image batch plus mask (n, 1, S, S), 1 = hole."""
        r = self.recipe
        batch = super().draw(n, generator)
        s = r.model.sample_size
        batch["mask"] = draw_masks(n, s, s, tuple(r.masks.kinds), tuple(r.masks.weights), generator)
        return batch

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        text, mask, x0 = batch["text"], batch["mask"], batch["x0"]
        cond = masked_image(x0, mask)
        return denoising_mse(self.noise_scheduler, lambda x_t, t: unet_forward(model, x_t, t, text, mask, cond),
                             x0, batch["t"], batch["noise"])

    def export(self, model: torch.nn.Module, target: Path, step: int) -> Path:
        from diffusers import DDIMScheduler

        r = self.recipe
        dtype = torch.float16 if r.train.export_dtype == "float16" else torch.float32
        unet = build_unet(r.model, seed=r.train.seed)
        unet.load_state_dict(model.state_dict())
        latent = self.latent_components() or {}
        g = r.diffusion.guidance_scale
        pipe = TextInpaintPipeline(unet.to(dtype), DDIMScheduler.from_config(self.noise_scheduler.config), **latent,
                                   **({} if g is None else {"guidance_scale": g}))
        seen = self.images_seen()
        masks = ", ".join(f"{k} ({w:g})" for k, w in zip(r.masks.kinds, r.masks.weights))
        with atomic_dir(target, keep=("README.md",)) as tmp:  # a card edited by hand stays
            pipe.save_pretrained(str(tmp))
            (tmp / "README.md").write_text(CARD.format(
                params=sum(p.numel() for p in unet.parameters()), init=r.train.init_from or "random weights",
                extra=condition_channels(r.model), space="latent" if latent else "image", size=pipe.image_size,
                latent=(f"\n- Space: {r.model.latent_channels}-channel latents of the autoencoder in `vae/` "
                        f"(`{r.model.autoencoder}`), normalised per channel; the hole is painted in latent space "
                        "and the known pixels pasted back at full resolution." if latent else ""),
                dropout=r.diffusion.text_dropout, guidance=pipe.config.guidance_scale, masks=masks, steps=step,
                batch=r.train.batch_size * r.train.grad_accum, lr=r.train.lr, prediction=r.diffusion.prediction_type,
                data=f"{r.data.kind}: {r.data.path}" + (f" ({seen} images)" if seen else ""),
                dtype=r.train.export_dtype, size_mb=weights_mb(tmp / "unet"),
                vae_size=f"; the autoencoder {weights_mb(tmp / 'vae'):.1f} MB" if latent else "",
                recipe="inpaint_latent.yaml" if latent else "inpaint.yaml"), encoding="utf-8")
        return target


def main(argv: Sequence[str] | None = None) -> int:
    return train_cli.main("python -m text3d.models.inpaint.train", __doc__.split("\n\n")[0], InpaintRecipe,
                          InpaintTask, argv)


if __name__ == "__main__":
    sys.exit(main())
