"""Train the text-conditioned inpainting model on the shared trainer (``depthgen.trainer``).

    python -m text3d.models.inpaint.train --config configs/models/inpaint.yaml [key=value ...] [--resume]
                                          [--max-steps N] [--export DIR]

Each example: a captioned procedural image, one of its captions (dropped to the null embedding with
probability ``diffusion.text_dropout`` for classifier-free guidance), a hole shaped like the trajectories'
(``masks``), a timestep and noise. The loss is the MSE of the scheduler's prediction target over the image.
Every draw comes from the trainer's generator for the global batch, so resume and multi-process runs are
exact (see ``depthgen.trainer``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Iterator, Sequence

import torch

from depthgen import train_cli
from depthgen.diffusion import make_train_scheduler, sample_timesteps
from depthgen.trainer import rank_slice
from text3d.models.inpaint.config import InpaintRecipe
from text3d.models.inpaint.masks import draw_masks
from text3d.models.inpaint.model import build_unet, load_from_t2i, masked_image, unet_forward
from text3d.models.inpaint.pipeline import TextInpaintPipeline
from text3d.t2i.data import CaptionBank, load_training_data, sample_batch
from text3d.t2i.text_encoder import load_text_encoder

CARD = """# Embedded text-conditioned inpainting model (text3d.models.inpaint)

Paints the part of a new text-to-3D view that no earlier view saw, from the known pixels, the hole mask
and the view's prompt. Loaded with `text3d.models.inpaint.TextInpaintPipeline.from_pretrained(this_folder)`.

- Architecture: the text-to-image model's `UNet2DConditionModel` ({params:,} parameters) with four more
  input channels (hole mask, masked image), zero-initialised, started from `{init}`.
- Conditioning: the all-MiniLM-L6-v2 sentence embedding of the prompt; captions dropped with probability
  {dropout} in training; guidance scale {guidance} by default.
- Holes in training: {masks}.
- Training: {steps} steps, batch {batch}, AdamW lr {lr}, `{prediction}` prediction; data `{data}`.
- Weights: {dtype} safetensors ({size_mb:.1f} MB).

Limits: 64x64; it knows the scene types of the procedural generator. Figures: docs/RESULTS.md
(`python -m bench.outpainting`); recipe: configs/models/inpaint.yaml.
"""


class InpaintTask:
    """``depthgen.trainer.TrainingTask`` of the text-conditioned inpainting model."""

    def __init__(self, recipe: InpaintRecipe):
        self.recipe = recipe
        size = recipe.model.sample_size
        self.data = load_training_data(recipe.data, size, seed=recipe.train.seed)
        cache = Path(recipe.train.output_dir) / "caption_embeddings.safetensors"
        self.bank = CaptionBank.build(self.data.captions, load_text_encoder(), cache)
        load_text_encoder.cache_clear()  # embeddings are cached; free the encoder
        self.noise_scheduler = make_train_scheduler(recipe.diffusion)

    def build_model(self) -> torch.nn.Module:
        return build_unet(self.recipe.model, seed=self.recipe.train.seed)

    def load_init(self, model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
        try:
            load_from_t2i(model, state)
        except RuntimeError as e:
            raise ValueError(f"{source}: weights do not fit this model ({str(e).splitlines()[0]})") from None

    def draw(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """A batch of ``n`` examples: x0 (n, 3, S, S) [-1, 1], text (n, 384), mask (n, 1, S, S), t (n,), noise."""
        r = self.recipe
        s = r.model.sample_size
        x0, text = sample_batch(self.data, self.bank, n, generator, r.data.hflip, r.diffusion.text_dropout)
        mask = draw_masks(n, s, s, tuple(r.masks.kinds), tuple(r.masks.weights), generator)
        t = sample_timesteps(n, r.diffusion.num_train_timesteps, r.diffusion.t_shift, generator)
        noise = torch.randn(x0.shape, generator=generator)
        return {"x0": x0, "text": text, "mask": mask, "t": t, "noise": noise}

    def batches(self, generator: torch.Generator, start_step: int, rank: int,
                world_size: int) -> Iterator[dict[str, torch.Tensor]]:
        n = self.recipe.train.batch_size * world_size
        while True:
            yield rank_slice(self.draw(n, generator), rank, world_size)

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        x0, noise, t, mask = batch["x0"], batch["noise"], batch["t"], batch["mask"]
        sched = self.noise_scheduler
        x_t = sched.add_noise(x0, noise, t)
        kind = sched.config.prediction_type
        target = {"epsilon": noise, "sample": x0}.get(kind)
        if target is None:
            target = sched.get_velocity(x0, noise, t)
        pred = unet_forward(model, x_t, t, batch["text"], mask, masked_image(x0, mask))
        return torch.nn.functional.mse_loss(pred.float(), target.float())

    def export(self, model: torch.nn.Module, target: Path, step: int) -> Path:
        from diffusers import DDIMScheduler

        r = self.recipe
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        dtype = torch.float16 if r.train.export_dtype == "float16" else torch.float32
        unet = build_unet(r.model, seed=r.train.seed)
        unet.load_state_dict(model.state_dict())
        pipe = TextInpaintPipeline(unet.to(dtype), DDIMScheduler.from_config(self.noise_scheduler.config))
        pipe.save_pretrained(str(tmp))
        size = sum(f.stat().st_size for f in tmp.rglob("*.safetensors")) / 1e6
        masks = ", ".join(f"{k} ({w:g})" for k, w in zip(r.masks.kinds, r.masks.weights))
        (tmp / "README.md").write_text(CARD.format(
            params=sum(p.numel() for p in unet.parameters()), init=r.train.init_from or "random weights",
            dropout=r.diffusion.text_dropout, guidance=pipe.config.guidance_scale, masks=masks, steps=step,
            batch=r.train.batch_size * r.train.grad_accum, lr=r.train.lr, prediction=r.diffusion.prediction_type,
            data=f"{r.data.kind}: {r.data.path} ({len(self.data)} images)", dtype=r.train.export_dtype, size_mb=size),
            encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
        return target


def main(argv: Sequence[str] | None = None) -> int:
    return train_cli.main("python -m text3d.models.inpaint.train", __doc__.split("\n\n")[0], InpaintRecipe,
                          InpaintTask, argv)


if __name__ == "__main__":
    sys.exit(main())
