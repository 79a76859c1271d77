"""Recipe dataclasses of the super-resolution model (``configs/models/sr/sr.yaml``).

Loaded with ``depthgen.common.config.load_config(SRRecipe, path, overrides)``; unknown keys are errors. The
``train`` section is the shared ``depthgen.training.config.TrainConfig``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from depthgen.training.config import TrainConfig, validate_train

KINDS = ("regression", "diffusion")
LR_KERNELS = ("area", "point")


@dataclass
class SRModelConfig:
    """The network: a diffusers ``UNet2DModel`` over the bicubic-upsampled low-resolution image.

    ``unshuffle`` packs each ``unshuffle x unshuffle`` block of high-resolution pixels into channels
    (``pixel_unshuffle``), so the UNet runs at 1/unshuffle of the output size (4x fewer pixels for 2)."""

    kind: str = "regression"        # regression (one pass, residual over bicubic) | diffusion (sampled residual)
    scale: int = 4                  # output side / input side
    unshuffle: int = 2
    block_out_channels: tuple[int, ...] = (48, 96, 128)
    layers_per_block: int = 1
    attention: bool = False         # self-attention in the lowest block (costly at 256 px)


@dataclass
class SRAugConfig:
    """Conditioning augmentation (Ho et al. 2021, "Cascaded Diffusion Models"): the low-resolution input is
    blurred and noised with a random level a in [0, 1]; the network is told a, and at inference the pipeline
    passes a small level so that it smooths the base model's blotches instead of sharpening them."""

    blur_sigma: float = 1.0         # Gaussian blur sigma (low-resolution px) at level 1
    noise_std: float = 0.16         # Gaussian noise std ([-1, 1] units) at level 1
    zero_fraction: float = 0.2      # share of examples with level 0 (the clean input)
    lr_kernels: tuple[str, ...] = ("area", "point")  # how the low-resolution input is made (one drawn per example)


@dataclass
class SRDiffusionConfig:
    """The diffusion variant's forward process (on the residual over the upsampled input)."""

    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    prediction_type: str = "sample"  # epsilon | v_prediction | sample
    residual_scale: float = 4.0     # the residual (std ~0.1 in [-1, 1] units) is diffused x this


@dataclass
class SRDataConfig:
    kind: str = "procedural_shards"  # procedural_shards | synthetic (toy shapes, tests/debug)
    path: str = "data/procedural/train-256"
    crop: int = 64                  # high-resolution crop side (the input crop is crop / scale)
    hflip: bool = True
    max_samples: int = 0            # use only the first N images (0 = all)
    synthetic_size: int = 16        # images of the synthetic set
    synthetic_side: int = 64        # their side in pixels


@dataclass
class SRRecipe:
    name: str = "sr"
    model: SRModelConfig = field(default_factory=SRModelConfig)
    augment: SRAugConfig = field(default_factory=SRAugConfig)
    diffusion: SRDiffusionConfig = field(default_factory=SRDiffusionConfig)
    data: SRDataConfig = field(default_factory=SRDataConfig)
    loss: str = "l1"                # l1 | l2 (regression; the diffusion variant uses l2 on its target)
    # regression: weight of a texture term matching the local high-frequency amplitude of the output to the
    # truth's (``text3d.models.sr.model.hf_amplitude`` over hf_patch-px patches); a pixel loss alone predicts
    # the mean over plausible textures, which is flat
    hf_weight: float = 0.0
    hf_patch: int = 8
    default_level: float = 0.1      # conditioning-augmentation level the exported pipeline uses by default
    default_steps: int = 4          # diffusion variant: sampling steps the exported pipeline uses by default
    train: TrainConfig = field(default_factory=lambda: TrainConfig(output_dir="runs/sr"))

    def __post_init__(self) -> None:
        validate(self)


def validate(r: SRRecipe) -> None:
    """Raise ``ValueError`` naming the first inconsistent field."""
    m, a, d = r.model, r.augment, r.data
    if m.kind not in KINDS:
        raise ValueError(f"model.kind must be one of {', '.join(KINDS)}, got {m.kind!r}")
    if m.scale < 2:
        raise ValueError(f"model.scale must be >= 2, got {m.scale}")
    if m.unshuffle < 1 or not m.block_out_channels:
        raise ValueError("model.unshuffle must be >= 1 and model.block_out_channels non-empty")
    multiple = m.unshuffle * 2 ** (len(m.block_out_channels) - 1)
    if d.crop % multiple or d.crop % m.scale:
        raise ValueError(f"data.crop {d.crop} must be a multiple of {multiple} (unshuffle x UNet down-sampling) "
                         f"and of model.scale {m.scale}")
    if a.blur_sigma < 0 or a.noise_std < 0 or not 0 <= a.zero_fraction <= 1:
        raise ValueError("augment.blur_sigma and noise_std must be >= 0, augment.zero_fraction in [0, 1]")
    if not a.lr_kernels or any(k not in LR_KERNELS for k in a.lr_kernels):
        raise ValueError(f"augment.lr_kernels must be a non-empty list of {list(LR_KERNELS)}, got {list(a.lr_kernels)}")
    if r.diffusion.prediction_type not in ("epsilon", "v_prediction", "sample"):
        raise ValueError(f"diffusion.prediction_type must be epsilon|v_prediction|sample, "
                         f"got {r.diffusion.prediction_type!r}")
    if d.kind not in ("procedural_shards", "synthetic"):
        raise ValueError(f"data.kind must be procedural_shards or synthetic, got {d.kind!r}")
    if r.loss not in ("l1", "l2"):
        raise ValueError(f"loss must be l1 or l2, got {r.loss!r}")
    if r.hf_weight < 0 or r.hf_patch < 1 or d.crop % r.hf_patch:
        raise ValueError(f"hf_weight must be >= 0 and hf_patch >= 1 dividing data.crop {d.crop}")
    if not 0 <= r.default_level <= 1 or r.default_steps < 1:
        raise ValueError("default_level must be in [0, 1] and default_steps >= 1")
    validate_train(r.train)
