"""Training recipe dataclasses for DepthGen / Palette models, loaded with ``depthgen.common.config.load_config``.

A recipe YAML (``configs/depthgen/*.yaml``) has the sections of ``Recipe`` (``model``, ``depth`` and
``diffusion`` are defined beside the network, in ``depthgen.models.config``); unknown keys are errors. Example::

    name: pretrain
    stage: pretrain            # pretrain | inpaint | finetune | regression
    model: {preset: small, sample_size: 64}
    diffusion: {prediction_type: v_prediction, loss: l1}
    data: {kind: procedural_shards, path: data/procedural/train-64}
    train: {batch_size: 16, max_steps: 100000, output_dir: runs/pretrain}

Stages: ``pretrain`` Palette multi-task on RGB (target 3 channels, task id as class label); ``inpaint``
the same model fine-tuned on inpainting only; ``finetune`` RGB -> depth (target 1 channel), usually
initialised from a pretrain checkpoint (``train.init_from``); ``regression`` the same UNet trained to
predict depth directly (t = 0, zeros as the target input): the paper's non-diffusion baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from depthgen.common.cli import parse_size
from depthgen.data.registry import has_depth, parse_mix, parse_spec
from depthgen.models.config import (HOLE_FILLS, LOSS_REDUCTIONS, LOSS_REGIONS, TASKS, DepthParamConfig,
                                    DiffusionConfig, ModelConfig)
from depthgen.models.unet import resolved
from depthgen.training.config import TrainConfig, validate_train

STAGES = ("pretrain", "inpaint", "finetune", "regression")


@dataclass
class TasksConfig:
    """Palette pretraining task mix (stage ``pretrain``; ``inpaint`` uses only inpainting)."""

    names: tuple[str, ...] = ("colorize", "inpaint", "uncrop", "jpeg")
    weights: tuple[float, ...] = (1.0, 2.0, 1.0, 1.0)
    mask_kinds: tuple[str, ...] = ("brush", "box", "disocclusion")  # inpainting mask generators
    mask_weights: tuple[float, ...] = (1.0, 1.0, 1.0)
    jpeg_quality: tuple[int, int] = (5, 30)  # inclusive range
    hole_fill: str = "grey"  # inpaint / uncrop condition inside the hole: grey (0) | telea | telea_band (OpenCV)


@dataclass
class DataConfig:
    # What to train on, first that is set: ``mix`` (SPEC@W,SPEC@W,...: a weighted mixture), ``spec`` (one dataset
    # spec of depthgen.data.registry, the grammar depthgen.evaluate --data reads), else ``kind`` + ``path``.
    mix: str | None = None
    spec: str | None = None
    kind: str = "procedural_shards"  # procedural_shards | procedural_live | folder | synthetic
    path: str = "data/procedural/train-64"  # shard dir / folder root (unused for live / synthetic)
    target: str = "sensor_depth"  # depth target key: sensor_depth (holes = 0) | depth (clean)
    hflip: bool = True
    # The training input as WxH (non-square: 320x240 for NYU's 640x480, 608x176 for KITTI's 1216x352); each source
    # image is resized to it. None: model.sample_size x model.sample_size.
    size: str | None = None
    num_workers: int = 0
    live_size: int = 10000  # procedural_live / synthetic: number of distinct samples
    sensor: str = "kinect"  # procedural_live sensor model
    # Field-of-view augmentation (depth stages, depthgen.models.camera.zoom_view): with this probability an example
    # is cropped (zoom > 1) or uncropped (zoom < 1), zoom log-uniform in [1 / max, max]; K follows.
    fov_aug_prob: float = 0.0
    fov_aug_max_zoom: float = 1.5


@dataclass
class Recipe:
    name: str = "depthgen"
    stage: str = "pretrain"
    model: ModelConfig = field(default_factory=ModelConfig)
    depth: DepthParamConfig = field(default_factory=DepthParamConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    tasks: TasksConfig = field(default_factory=TasksConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        validate_recipe(self)


def validate_recipe(r: Recipe) -> None:
    """Raise ``ValueError`` naming the first inconsistent field."""
    if r.stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {r.stage!r}")
    if r.diffusion.prediction_type not in ("epsilon", "v_prediction", "sample"):
        raise ValueError(f"diffusion.prediction_type must be epsilon|v_prediction|sample, got {r.diffusion.prediction_type!r}")
    if r.diffusion.loss not in ("l1", "l2"):
        raise ValueError(f"diffusion.loss must be l1 or l2, got {r.diffusion.loss!r}")
    if r.diffusion.loss_reduction not in LOSS_REDUCTIONS:
        raise ValueError(f"diffusion.loss_reduction must be one of {'|'.join(LOSS_REDUCTIONS)}, "
                         f"got {r.diffusion.loss_reduction!r}")
    if r.diffusion.loss_region not in LOSS_REGIONS:
        raise ValueError(f"diffusion.loss_region must be one of {'|'.join(LOSS_REGIONS)}, got {r.diffusion.loss_region!r}")
    if not r.diffusion.t_shift > 0:
        raise ValueError(f"diffusion.t_shift must be > 0, got {r.diffusion.t_shift}")
    if not 0.0 <= r.diffusion.sud_prob <= 1.0:
        raise ValueError(f"diffusion.sud_prob must be in [0, 1], got {r.diffusion.sud_prob}")
    if r.depth.param not in ("log", "linear"):
        raise ValueError(f"depth.param must be log or linear, got {r.depth.param!r}")
    if not 0 < r.depth.d_min < r.depth.d_max:
        raise ValueError(f"need 0 < depth.d_min < depth.d_max, got {r.depth.d_min}, {r.depth.d_max}")
    unknown = [t for t in r.tasks.names if t not in TASKS[:-1]]
    if unknown:
        raise ValueError(f"tasks.names has unknown task(s) {unknown}; allowed: {list(TASKS[:-1])}")
    if len(r.tasks.weights) != len(r.tasks.names):
        raise ValueError("tasks.weights must have one weight per entry of tasks.names")
    if len(r.tasks.mask_weights) != len(r.tasks.mask_kinds):
        raise ValueError("tasks.mask_weights must have one weight per entry of tasks.mask_kinds")
    if r.tasks.hole_fill not in HOLE_FILLS:
        raise ValueError(f"tasks.hole_fill must be one of {list(HOLE_FILLS)}, got {r.tasks.hole_fill!r}")
    validate_data_specs(r)
    if r.data.kind not in ("procedural_shards", "procedural_live", "folder", "synthetic"):
        raise ValueError(f"data.kind must be procedural_shards|procedural_live|folder|synthetic, got {r.data.kind!r}")
    if r.data.target not in ("sensor_depth", "depth"):
        raise ValueError(f"data.target must be sensor_depth or depth, got {r.data.target!r}")
    validate_train(r.train)
    if r.train.val_every and (r.stage in ("pretrain", "inpaint") or not has_depth(r.train.val_data)):
        raise ValueError("train.val_every scores depth: it needs a depth stage (finetune, regression) and a "
                         "train.val_data spec with depth")
    validate_camera_options(r)
    if r.model.sample_size < 8 or r.model.sample_size % 8:
        raise ValueError(f"model.sample_size must be a multiple of 8 (>= 8), got {r.model.sample_size}")
    if r.data.size is not None:
        factor = max(8, 2 ** (len(resolved(r.model)["block_out_channels"]) - 1))  # the UNet halves it per level
        if any(side % factor for side in train_hw(r)):
            raise ValueError(f"data.size {r.data.size!r}: width and height must be multiples of {factor} for this model")


def train_hw(r: Recipe) -> tuple[int, int]:
    """(height, width) of the training examples: ``data.size`` (typed WxH), else ``model.sample_size`` square."""
    if r.data.size is None:
        return r.model.sample_size, r.model.sample_size
    return parse_size(r.data.size, "data.size", minimum=8)


def data_specs(r: Recipe) -> list[tuple[str, float]]:
    """The recipe's training data as [(spec, weight)]: ``data.mix``, else ``[(data.spec, 1)]``, else []
    (the legacy ``data.kind`` sources)."""
    if r.data.mix:
        return parse_mix(r.data.mix)
    return [(r.data.spec, 1.0)] if r.data.spec else []


def validate_data_specs(r: Recipe) -> None:
    """Mixture weights > 0, known forms, and depth in every source of a depth stage (files are checked when the
    data are opened)."""
    for spec, _ in data_specs(r):
        parse_spec(spec)
        if not has_depth(spec) and r.stage not in ("pretrain", "inpaint"):
            raise ValueError(f"{spec!r} has no depth; photographs train the Palette stages (pretrain, inpaint), "
                             f"not stage {r.stage!r}")


def validate_camera_options(r: Recipe) -> None:
    """The camera-aware and faster-convergence options (issue 20): ranges, and the stages they apply to."""
    depth_stage = r.stage in ("finetune", "regression")
    d, f = r.diffusion, r.data
    if r.depth.canonical_fov_deg is not None and not 0 < r.depth.canonical_fov_deg < 180:
        raise ValueError(f"depth.canonical_fov_deg must be in (0, 180) degrees or null, got {r.depth.canonical_fov_deg}")
    if d.si_log_weight < 0 or not 0.0 <= d.si_log_lambda <= 1.0:
        raise ValueError(f"need diffusion.si_log_weight >= 0 and si_log_lambda in [0, 1], got "
                         f"{d.si_log_weight}, {d.si_log_lambda}")
    if d.si_log_weight > 0 and r.depth.param != "log":
        raise ValueError("diffusion.si_log_weight needs depth.param=log (the term is computed in model space)")
    if d.min_snr_gamma < 0:
        raise ValueError(f"diffusion.min_snr_gamma must be >= 0 (0 = off), got {d.min_snr_gamma}")
    if not 0.0 <= f.fov_aug_prob <= 1.0 or f.fov_aug_max_zoom < 1.0:
        raise ValueError(f"need data.fov_aug_prob in [0, 1] and data.fov_aug_max_zoom >= 1, got "
                         f"{f.fov_aug_prob}, {f.fov_aug_max_zoom}")
    if r.model.aspect_conditioning and not r.model.fov_conditioning:
        raise ValueError("model.aspect_conditioning needs model.fov_conditioning=true (the aspect channel follows the FOV channel)")
    used = [name for name, on in (("model.fov_conditioning", r.model.fov_conditioning),
                                  ("depth.canonical_fov_deg", r.depth.canonical_fov_deg is not None),
                                  ("data.fov_aug_prob", f.fov_aug_prob > 0), ("diffusion.si_log_weight", d.si_log_weight > 0),
                                  ("diffusion.single_step", d.single_step)) if on]
    if used and not depth_stage:
        raise ValueError(f"{used[0]} applies to the depth stages (finetune, regression), not to stage {r.stage!r}")
    if d.single_step and r.stage != "finetune":
        raise ValueError("diffusion.single_step is a finetune option (the regression stage is single-pass already)")
    if d.single_step and d.prediction_type == "epsilon":
        raise ValueError("diffusion.single_step needs prediction_type sample or v_prediction (epsilon cannot give "
                         "x0 at t = T)")


def target_channels(stage: str) -> int:
    """3 (RGB) for Palette stages, 1 (depth) for depth stages."""
    return 3 if stage in ("pretrain", "inpaint") else 1
