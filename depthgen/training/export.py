"""Export trained weights as a ready pipeline folder (``DepthGenPipeline`` or ``PalettePipeline``).

    python -m depthgen.train --export-only --from runs/finetune --out assets/depthgen-small
CKPT may be a checkpoint dir or an output_dir (its newest checkpoint is used); the EMA weights are exported.
"""

from __future__ import annotations

from pathlib import Path

import torch

from depthgen.common.config import save_config
from depthgen.common.io import atomic_dir
from depthgen.models.depth_pipeline import DepthGenPipeline
from depthgen.models.diffusion import make_train_scheduler
from depthgen.models.palette_pipeline import PalettePipeline
from depthgen.models.unet import build_unet, load_adapted
from depthgen.training.recipe import Recipe, target_channels, train_hw

CARD = "README.md"  # a model card written by hand beside the exported weights


def build_pipeline(recipe: Recipe, state: dict[str, torch.Tensor]):
    """A pipeline holding a UNet built from ``recipe.model`` with ``state`` loaded."""
    unet = build_unet(recipe.model, target_channels(recipe.stage))
    load_adapted(unet, state, source="exported weights")
    unet.eval()
    sched = make_train_scheduler(recipe.diffusion)
    objective = ("regression" if recipe.stage == "regression" else
                 "single_step" if recipe.diffusion.single_step else "diffusion")
    if recipe.stage in ("pretrain", "inpaint"):
        return PalettePipeline(unet, sched, resolution=train_hw(recipe),
                               prediction_type=recipe.diffusion.prediction_type, objective=objective,
                               hole_fill=recipe.tasks.hole_fill)

    d = recipe.depth
    return DepthGenPipeline(unet, sched, depth_param=d.param, d_min=d.d_min, d_max=d.d_max,
                            resolution=train_hw(recipe), prediction_type=recipe.diffusion.prediction_type,
                            objective=objective, canonical_fov_deg=d.canonical_fov_deg)


def export_pipeline(recipe: Recipe, state: dict[str, torch.Tensor], out: str | Path) -> Path:
    """Save the pipeline for ``state`` to ``out`` (written to a temp folder, then renamed over ``out``); the model
    card (``README.md``) of a folder exported before is kept."""
    out = Path(out)
    pipe = build_pipeline(recipe, state)
    with atomic_dir(out, keep=(CARD,)) as tmp:
        pipe.save_pretrained(str(tmp), safe_serialization=True)
        save_config(recipe, tmp / "training_config.yaml")
    return out
