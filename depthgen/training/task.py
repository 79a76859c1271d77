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

import numpy as np
import torch

from depthgen.common.io import atomic_dir, colorize_depth
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
        self.val_set: torch.utils.data.Dataset | None = None  # train.val_data, opened at the first validation
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

    def validate(self, model: torch.nn.Module, step: int, out_dir: Path) -> dict[str, float]:
        """REL and delta1 (``depthgen.evaluation``) of ``model`` (the EMA weights) through the DepthGen pipeline on
        the first ``train.val_samples`` images of ``train.val_data`` (split ``val``), one sample of
        ``train.val_steps`` denoising steps per image; the predicted and true depth, coloured alike
        (``colorize_depth``), are written to ``out_dir/NN-pred.png`` and ``NN-true.png``."""
        from depthgen.data.registry import open_dataset
        from depthgen.evaluation.evaluate import evaluate_model, pipeline_predict_fn
        from depthgen.training.export import build_pipeline

        t = self.recipe.train
        if self.val_set is None:
            self.val_set = open_dataset(t.val_data, "val")
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        predict = pipeline_predict_fn(build_pipeline(self.recipe, state).to(next(model.parameters()).device),
                                      steps=t.val_steps)
        shown: list[np.ndarray] = []

        def recorded(rgb: np.ndarray, k: int, generator: torch.Generator, **camera) -> np.ndarray:
            samples = predict(rgb, k, generator, **camera)
            shown.append(np.asarray(samples[0], np.float32))
            return samples

        names = ("abs_rel", "delta1")
        res = evaluate_model(recorded, self.val_set, samples=(1,), limit=t.val_samples, metrics=names, seed=t.seed)
        _write_depth_images(out_dir, shown, [self.val_set[i]["depth"] for i in range(len(shown))])
        return {n: float(res["metrics"]["1"][n]) for n in names}


def _write_depth_images(out_dir: Path, predicted: list[np.ndarray], true: list[np.ndarray]) -> None:
    """``NN-pred.png`` / ``NN-true.png`` per image, both coloured over the true depth's valid range."""
    from PIL import Image

    with atomic_dir(out_dir) as tmp:
        for i, (pred, gt) in enumerate(zip(predicted, true)):
            gt = np.asarray(gt, np.float32)
            valid = gt[gt > 0]
            lo, hi = (float(valid.min()), float(valid.max())) if valid.size else (None, None)
            Image.fromarray(colorize_depth(pred, lo, hi)).save(tmp / f"{i:02d}-pred.png")
            Image.fromarray(colorize_depth(gt, lo, hi)).save(tmp / f"{i:02d}-true.png")


def main(argv: Sequence[str] | None = None) -> int:
    return train_cli.main("python -m depthgen.train", __doc__.split("\n\n")[0], Recipe, DepthGenTask, argv,
                          validates=True)


def cli() -> None:
    sys.exit(main())
