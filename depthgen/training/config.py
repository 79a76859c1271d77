"""``TrainConfig``: the ``train:`` section of every recipe, shared by all models (``depthgen.training.trainer``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainConfig:
    """The ``train:`` section of every recipe (DepthGen, text-to-image, inpainting, super-resolution)."""

    output_dir: str = "runs/depthgen"
    batch_size: int = 16  # per process
    grad_accum: int = 1
    lr: float = 1e-4
    weight_decay: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.999)
    lr_schedule: str = "cosine"  # cosine | constant (both with linear warmup)
    warmup_steps: int = 500
    max_steps: int = 50000  # LR schedule length and the default stop
    grad_clip: float = 1.0  # 0 disables
    mixed_precision: str = "no"  # no | fp16 | bf16
    ema_decay: float = 0.999
    ema_warmup: bool = True  # diffusers EMAModel warmup (decay ramps up early in training)
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    log_every: int = 10
    seed: int = 0
    init_from: str | None = None  # output_dir (newest checkpoint, EMA), checkpoint dir or pipeline folder
    export_dir: str | None = None  # default: <output_dir>/pipeline
    export_dtype: str = "float32"  # float16 | float32: dtype of exported weights (float16 halves the folder)


def validate_train(t: TrainConfig) -> None:
    """Raise ``ValueError`` naming the first bad ``train.*`` field."""
    if t.lr_schedule not in ("cosine", "constant"):
        raise ValueError(f"train.lr_schedule must be cosine or constant, got {t.lr_schedule!r}")
    if t.mixed_precision not in ("no", "fp16", "bf16"):
        raise ValueError(f"train.mixed_precision must be no|fp16|bf16, got {t.mixed_precision!r}")
    if t.export_dtype not in ("float16", "float32"):
        raise ValueError(f"train.export_dtype must be float16 or float32, got {t.export_dtype!r}")
    for name in ("batch_size", "grad_accum", "max_steps", "checkpoint_every", "keep_checkpoints", "log_every"):
        if getattr(t, name) < 1:
            raise ValueError(f"train.{name} must be >= 1, got {getattr(t, name)}")
    if t.warmup_steps < 0:
        raise ValueError(f"train.warmup_steps must be >= 0, got {t.warmup_steps}")
