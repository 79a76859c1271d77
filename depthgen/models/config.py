"""What a DepthGen / Palette network is: the task-id table, the UNet size and layout, the depth
parametrisation and the diffusion process. These are the ``model``, ``depth`` and ``diffusion`` sections
of a training recipe (``depthgen.training.recipe.Recipe``); the pipelines and the network read them
without needing the training code.
"""

from __future__ import annotations

from dataclasses import dataclass

# Fixed task-id table shared by every stage, so that a pretrain checkpoint's class embedding table has the
# same shape as a depth model's (``num_class_embeds = len(TASKS)``): fine-tuning reuses it unchanged.
TASKS = ("colorize", "inpaint", "uncrop", "jpeg", "depth")
HOLE_FILLS = ("grey", "telea", "telea_band")  # see depthgen.data.pretrain_tasks.fill_hole


@dataclass
class ModelConfig:
    """UNet size and layout. ``preset`` fills every ``None`` field (see ``depthgen.models.unet.PRESETS``)."""

    preset: str = "small"  # tiny | small | base
    sample_size: int = 64  # square model resolution (pixels)
    block_out_channels: tuple[int, ...] | None = None
    layers_per_block: int | None = None
    attention_levels: tuple[bool, ...] | None = None  # per resolution level: use self-attention
    norm_num_groups: int | None = None
    attention_head_dim: int | None = None
    dropout: float = 0.0
    task_embedding: bool = True  # class embedding over TASKS (Palette task id)
    fov_conditioning: bool = False  # depth stages: one more input channel holding depthgen.models.camera.fov_channel
    aspect_conditioning: bool = False  # with fov_conditioning: one more holding depthgen.models.camera.aspect_channel


@dataclass
class DepthParamConfig:
    """How metric depth maps to the model's [-1, 1] space (see depthgen/models/depth_param.py)."""

    param: str = "log"  # log | linear
    d_min: float = 0.1  # metres
    d_max: float = 80.0  # metres
    # Canonical camera (depthgen.models.camera): labels scaled by f_c / f in training, predictions by f / f_c at
    # inference; None = metric labels as they are. d_min / d_max then bound the canonical depth.
    canonical_fov_deg: float | None = None


LOSS_REDUCTIONS = ("pixel", "image")  # see depthgen.models.diffusion.masked_loss
LOSS_REGIONS = ("all", "hole")  # see depthgen.training.data.TrainingExamples


@dataclass
class DiffusionConfig:
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"  # any diffusers DDPMScheduler beta_schedule
    prediction_type: str = "v_prediction"  # epsilon | v_prediction | sample
    loss: str = "l1"  # l1 | l2
    sud_prob: float = 0.0  # step-unrolled denoising probability per sample
    infill: bool = True  # fill invalid depth before noising (finetune / regression)
    t_shift: float = 1.0  # > 1 draws training timesteps nearer pure noise (depthgen.models.diffusion.sample_timesteps)
    loss_reduction: str = "pixel"  # pixel: mean over the batch's valid pixels | image: per image, then over images
    loss_region: str = "all"  # Palette inpaint/uncrop examples: all pixels | hole: only the pixels to fill
    # Faster-convergence options (depthgen.models.diffusion); the defaults are off.
    si_log_weight: float = 0.0  # weight of a scale-invariant log-depth term on the x0 estimate, beside L1/L2
    si_log_lambda: float = 1.0  # its variance weight: 1 fully scale-invariant, 0 plain squared log error
    min_snr_gamma: float = 0.0  # > 0: min-SNR-gamma loss weighting per timestep (5 is the paper's value)
    single_step: bool = False  # finetune: fixed t = T - 1, zeros as x_t, the x0 estimate trained directly
