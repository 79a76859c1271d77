"""``TrainConfig``: the ``train:`` section of every recipe, shared by all models (``depthgen.training.trainer``)."""

from __future__ import annotations

from dataclasses import dataclass

LOGGERS = ("none", "tensorboard")  # train.log_with


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
    log_with: str = "none"  # none | tensorboard: also log to accelerate's tracker under <output_dir>/<name>
    # Validation (depth stages): every val_every steps (0 = off) the EMA weights predict val_samples images of
    # val_data (a depthgen.data.registry spec, split "val") through the pipeline; REL and delta1 go to
    # <output_dir>/val.csv and the tracker, the predicted depth images to <output_dir>/val/step-N/.
    val_every: int = 0
    val_data: str | None = None
    val_samples: int = 4
    val_steps: int = 10  # denoising steps per validation image
    gradient_checkpointing: bool = False  # recompute activations in the backward pass (less memory, ~30% slower)
    compile: bool = False  # torch.compile the model's forward


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
    if t.log_with not in LOGGERS:
        raise ValueError(f"train.log_with must be one of {'|'.join(LOGGERS)}, got {t.log_with!r}")
    if t.val_every < 0 or t.val_samples < 1 or t.val_steps < 1:
        raise ValueError(f"need train.val_every >= 0, train.val_samples >= 1 and train.val_steps >= 1, got "
                         f"{t.val_every}, {t.val_samples}, {t.val_steps}")
    if t.val_every and not t.val_data:
        raise ValueError("train.val_every needs train.val_data=SPEC (e.g. procedural:val or folder:DIR?frames=600-999)")
    if t.warmup_steps < 0:
        raise ValueError(f"train.warmup_steps must be >= 0, got {t.warmup_steps}")
