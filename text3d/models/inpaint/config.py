"""Recipe dataclasses of the text-conditioned inpainting model (``configs/models/inpaint/inpaint.yaml``).

Loaded with ``depthgen.common.config.load_config(InpaintRecipe, path, overrides)``; unknown keys are errors. The
model and data sections are the text-to-image model's (the inpainting UNet starts from its weights), the
``train`` section is the shared ``depthgen.training.config.TrainConfig``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from depthgen.training.config import TrainConfig
from text3d.models.inpaint.masks import MASK_KINDS
from text3d.models.t2i.config import T2IDataConfig, T2IDiffusionConfig, T2IModelConfig
from text3d.models.t2i.config import validate as validate_t2i


@dataclass
class MaskConfig:
    """The mix of hole shapes drawn in training (see ``text3d.models.inpaint.masks``)."""

    kinds: tuple[str, ...] = ("turn", "ring", "frame", "scatter")
    weights: tuple[float, ...] = (4.0, 1.5, 1.0, 1.5)


@dataclass
class InpaintRecipe:
    name: str = "inpaint"
    model: T2IModelConfig = field(default_factory=lambda: T2IModelConfig(coord_channels=True))
    diffusion: T2IDiffusionConfig = field(default_factory=lambda: T2IDiffusionConfig(prediction_type="sample"))
    masks: MaskConfig = field(default_factory=MaskConfig)
    data: T2IDataConfig = field(default_factory=T2IDataConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(output_dir="runs/inpaint-text"))

    def __post_init__(self) -> None:
        validate(self)


def validate(r: InpaintRecipe) -> None:
    """Raise ``ValueError`` naming the first inconsistent field (the text-to-image checks, then the masks)."""
    validate_t2i(r)
    unknown = [k for k in r.masks.kinds if k not in MASK_KINDS]
    if unknown or not r.masks.kinds:
        raise ValueError(f"masks.kinds must be a non-empty list of {list(MASK_KINDS)}, got {list(r.masks.kinds)}")
    if len(r.masks.weights) != len(r.masks.kinds) or any(w < 0 for w in r.masks.weights) or sum(r.masks.weights) <= 0:
        raise ValueError("masks.weights needs one non-negative weight per entry of masks.kinds, not all zero")
