"""Recipe dataclasses for the embedded text-to-image model (``configs/models/t2i/*.yaml``).

Loaded with ``depthgen.common.config.load_config(T2IRecipe, path, overrides)``; unknown keys are errors. Example::

    name: t2i
    model: {preset: small, sample_size: 64}
    diffusion: {prediction_type: v_prediction, text_dropout: 0.15}
    data: {kind: procedural_shards, path: data/procedural/train-64}
    train: {batch_size: 32, max_steps: 20000, output_dir: runs/t2i}

The ``train`` section is the project's one ``depthgen.training.config.TrainConfig`` (one trainer for every model).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from depthgen.training.config import TrainConfig, validate_train


@dataclass
class T2IModelConfig:
    """UNet size; ``preset`` fills every ``None`` field (see ``text3d.models.t2i.model.PRESETS``)."""

    preset: str = "small"  # tiny | small
    sample_size: int = 64  # square image size (pixels)
    block_out_channels: tuple[int, ...] | None = None
    layers_per_block: int | None = None
    attention_levels: tuple[bool, ...] | None = None  # self-attention per resolution level
    norm_num_groups: int | None = None
    attention_head_dim: int | None = None
    coord_channels: bool = False  # feed two pixel-coordinate channels (y, x in [-1, 1]) beside the noisy image
    latent_channels: int = 0  # 0: diffuse RGB pixels; > 0: diffuse the autoencoder's latents of this many channels
    autoencoder: str = "assets/autoencoder"  # the TinyAutoencoder folder a latent model decodes with (saved with it)


@dataclass
class T2IDiffusionConfig:
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"  # any diffusers DDPMScheduler beta_schedule
    prediction_type: str = "v_prediction"  # epsilon | v_prediction | sample
    text_dropout: float = 0.15  # probability of replacing the caption by the null embedding (CFG)
    t_shift: float = 1.0  # > 1 draws training timesteps nearer pure noise (depthgen.models.diffusion.sample_timesteps)
    guidance_scale: float | None = None  # classifier-free guidance the exported pipeline samples with unless told
    # otherwise (saved in its model_index.json); None: the pipeline's own default (text-to-image 3, inpainting 6)


@dataclass
class T2IDataConfig:
    kind: str = "procedural_shards"  # procedural_shards | latents | synthetic (toy colour scenes, tests/debug)
    path: str = "data/procedural/train-64"  # shard folder (procedural_shards) or cache file (latents: written by
    # python -m text3d.models.autoencoder.encode)
    hflip: bool = True  # random horizontal flips (captions of procedural scenes are flip-invariant)
    synthetic_size: int = 64  # number of samples of the synthetic toy set
    max_samples: int = 0  # use only the first N samples (0 = all)
    max_captions: int = 0  # use at most N captions per image (0 = all); each distinct caption is encoded once


@dataclass
class T2IRecipe:
    name: str = "t2i"
    model: T2IModelConfig = field(default_factory=T2IModelConfig)
    diffusion: T2IDiffusionConfig = field(default_factory=T2IDiffusionConfig)
    data: T2IDataConfig = field(default_factory=T2IDataConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        output_dir="runs/t2i", batch_size=32, lr=2e-4, warmup_steps=200, max_steps=20000, checkpoint_every=500,
        export_dtype="float16"))

    def __post_init__(self) -> None:
        validate(self)


def validate(r: T2IRecipe) -> None:
    """Raise ``ValueError`` naming the first inconsistent field."""
    if r.model.sample_size < 8 or r.model.sample_size % 8:
        raise ValueError(f"model.sample_size must be a multiple of 8 (>= 8), got {r.model.sample_size}")
    if r.diffusion.prediction_type not in ("epsilon", "v_prediction", "sample"):
        raise ValueError(f"diffusion.prediction_type must be epsilon|v_prediction|sample, got {r.diffusion.prediction_type!r}")
    if not 0.0 <= r.diffusion.text_dropout < 1.0:
        raise ValueError(f"diffusion.text_dropout must be in [0, 1), got {r.diffusion.text_dropout}")
    if not r.diffusion.t_shift > 0:
        raise ValueError(f"diffusion.t_shift must be > 0, got {r.diffusion.t_shift}")
    g = r.diffusion.guidance_scale
    if g is not None and not 0.0 <= g < float("inf"):
        raise ValueError(f"diffusion.guidance_scale must be a number >= 0 (or null for the pipeline's default), got {g}")
    if r.data.kind not in ("procedural_shards", "latents", "synthetic"):
        raise ValueError(f"data.kind must be procedural_shards, latents or synthetic, got {r.data.kind!r}")
    if r.model.latent_channels < 0:
        raise ValueError(f"model.latent_channels must be >= 0, got {r.model.latent_channels}")
    if (r.data.kind == "latents") != (r.model.latent_channels > 0):
        raise ValueError("data.kind latents and model.latent_channels > 0 go together (a latent model learns from a "
                         "latent cache, a pixel model from images)")
    if r.data.kind == "latents" and r.data.hflip:
        raise ValueError("data.hflip must be false for data.kind latents (a flipped latent is not the latent of the "
                         "flipped image)")
    validate_train(r.train)
