"""Training of DepthGen, its regression baseline and the Palette models, on the shared trainer.

    python -m depthgen.train --config configs/depthgen/depthgen.yaml [key=value ...] [--resume] [--max-steps N]
    python -m depthgen.train --config ... --export DIR          # also export the final EMA pipeline to DIR
    python -m depthgen.train --export-only --from CKPT --out DIR  # CKPT: checkpoint dir or output_dir

``DepthGenTask`` supplies the model (``depthgen.models.unet``), the examples of the recipe's stage
(``depthgen.training.data``: a resumable DataLoader that restarts at the right batch) and the loss
(``depthgen.models.diffusion``); ``depthgen.training.trainer`` runs the loop (accelerate, EMA, LR schedule, checkpoints,
exact resume, SIGINT/SIGTERM/STOP file, ``log.csv``). The EMA weights are exported as a pipeline folder
loadable with ``DepthGenPipeline`` / ``PalettePipeline.from_pretrained``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator, Sequence

import torch

from depthgen.models import diffusion
from depthgen.models.unet import build_unet, load_adapted
from depthgen.training import cli as train_cli
from depthgen.training.data import make_loader
from depthgen.training.export import export_pipeline
from depthgen.training.recipe import Recipe, target_channels


class DepthGenTask:
    """``depthgen.training.trainer.TrainingTask`` of a ``Recipe`` (stages pretrain | inpaint | finetune | regression).

    ``source``: an optional raw sample dataset used instead of ``recipe.data`` (tests, notebooks)."""

    def __init__(self, recipe: Recipe, source: torch.utils.data.Dataset | None = None):
        self.recipe, self.source = recipe, source
        self.scheduler = diffusion.make_train_scheduler(recipe.diffusion)

    def build_model(self) -> torch.nn.Module:
        return build_unet(self.recipe.model, target_channels(self.recipe.stage), seed=self.recipe.train.seed)

    def load_init(self, model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
        load_adapted(model, state, source=source)

    def batches(self, generator: torch.Generator, start_step: int, rank: int,
                world_size: int) -> Iterator[dict[str, torch.Tensor]]:
        """The loader's batches from micro-batch ``start_step * grad_accum`` on; each rank reads its own."""
        loader = make_loader(self.recipe, start_batch=start_step * self.recipe.train.grad_accum, rank=rank,
                             world_size=world_size, source=self.source)
        yield from loader

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        if self.recipe.stage == "regression":
            return diffusion.regression_loss(model, batch, self.recipe.diffusion)[0]
        return diffusion.diffusion_loss(model, self.scheduler, batch, self.recipe.diffusion, generator)[0]

    def export(self, model: torch.nn.Module, target: Path, step: int) -> Path:
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        return export_pipeline(self.recipe, state, target)


def main(argv: Sequence[str] | None = None) -> int:
    return train_cli.main("python -m depthgen.train", __doc__.split("\n\n")[0], Recipe, DepthGenTask, argv)


def cli() -> None:
    sys.exit(main())
