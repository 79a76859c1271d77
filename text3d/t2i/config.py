"""Recipe dataclasses for the embedded text-to-image model (``configs/t2i/*.yaml``).

Loaded with ``depthgen.config.load_config(T2IRecipe, path, overrides)``; unknown keys are errors. Example::

    name: t2i
    model: {preset: small, sample_size: 64}
    diffusion: {prediction_type: v_prediction, text_dropout: 0.15}
    data: {kind: procedural_shards, path: data/procedural/train-64}
    train: {batch_size: 32, max_steps: 20000, output_dir: runs/t2i}

``T2ITrainConfig`` deliberately uses the same field names as ``depthgen.recipe.TrainConfig`` so that the
two training loops can later share one config and one loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class T2IModelConfig:
    """UNet size; ``preset`` fills every ``None`` field (see ``text3d.t2i.model.PRESETS``)."""

    preset: str = "small"  # tiny | small
    sample_size: int = 64  # square image size (pixels)
    block_out_channels: tuple[int, ...] | None = None
    layers_per_block: int | None = None
    attention_levels: tuple[bool, ...] | None = None  # self-attention per resolution level
    norm_num_groups: int | None = None
    attention_head_dim: int | None = None
    coord_channels: bool = False  # feed two pixel-coordinate channels (y, x in [-1, 1]) beside the noisy image


@dataclass
class T2IDiffusionConfig:
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"  # any diffusers DDPMScheduler beta_schedule
    prediction_type: str = "v_prediction"  # epsilon | v_prediction | sample
    text_dropout: float = 0.15  # probability of replacing the caption by the null embedding (CFG)
    t_shift: float = 1.0  # > 1 draws training timesteps nearer pure noise (depthgen.diffusion.sample_timesteps)


@dataclass
class T2IDataConfig:
    kind: str = "procedural_shards"  # procedural_shards | synthetic (toy colour scenes, tests/debug)
    path: str = "data/procedural/train-64"  # shard folder for procedural_shards
    hflip: bool = True  # random horizontal flips (captions of procedural scenes are flip-invariant)
    synthetic_size: int = 64  # number of samples of the synthetic toy set
    max_samples: int = 0  # use only the first N samples (0 = all)
    max_captions: int = 0  # use at most N captions per image (0 = all); each distinct caption is encoded once


@dataclass
class T2ITrainConfig:
    output_dir: str = "runs/t2i"
    batch_size: int = 32
    grad_accum: int = 1
    lr: float = 2e-4
    weight_decay: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.999)
    lr_schedule: str = "cosine"  # cosine | constant (both with linear warmup)
    warmup_steps: int = 200
    max_steps: int = 20000
    grad_clip: float = 1.0  # 0 disables
    mixed_precision: str = "no"  # no | fp16 | bf16
    ema_decay: float = 0.999
    ema_warmup: bool = True
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    log_every: int = 10
    seed: int = 0
    init_from: str | None = None  # pipeline folder, checkpoint dir or output_dir (EMA) to start the UNet from
    export_dir: str | None = None  # default: <output_dir>/pipeline
    export_dtype: str = "float16"  # float16 | float32: dtype of the exported weights (halves the size)


@dataclass
class T2IRecipe:
    name: str = "t2i"
    model: T2IModelConfig = field(default_factory=T2IModelConfig)
    diffusion: T2IDiffusionConfig = field(default_factory=T2IDiffusionConfig)
    data: T2IDataConfig = field(default_factory=T2IDataConfig)
    train: T2ITrainConfig = field(default_factory=T2ITrainConfig)

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
    if r.data.kind not in ("procedural_shards", "synthetic"):
        raise ValueError(f"data.kind must be procedural_shards or synthetic, got {r.data.kind!r}")
    t = r.train
    if t.lr_schedule not in ("cosine", "constant"):
        raise ValueError(f"train.lr_schedule must be cosine or constant, got {t.lr_schedule!r}")
    if t.mixed_precision not in ("no", "fp16", "bf16"):
        raise ValueError(f"train.mixed_precision must be no|fp16|bf16, got {t.mixed_precision!r}")
    if t.export_dtype not in ("float16", "float32"):
        raise ValueError(f"train.export_dtype must be float16 or float32, got {t.export_dtype!r}")
    for name in ("batch_size", "grad_accum", "max_steps", "checkpoint_every", "keep_checkpoints", "log_every"):
        if getattr(t, name) < 1:
            raise ValueError(f"train.{name} must be >= 1, got {getattr(t, name)}")
