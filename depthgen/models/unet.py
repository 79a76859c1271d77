"""The Palette-style conditional UNet (diffusers ``UNet2DModel``) and its size presets.

Input layout (channels, in this order): condition RGB (3) | aux (1: the task mask for Palette tasks, zeros
for depth) | [FOV (1), only with ``model.fov_conditioning``: the constant ``depthgen.models.camera.fov_channel`` of
the image's camera] | [aspect (1), only with ``model.aspect_conditioning`` (which needs the FOV channel): the
constant ``depthgen.models.camera.aspect_channel``] | noisy target x_t (3 for RGB targets, 1 for depth). Output: the target's channel count (the
quantity named by the diffusion prediction type). The task id goes through the UNet's class embedding
(``num_class_embeds = len(TASKS)``; ids in ``depthgen.models.config.TASKS``).

``adapt_state_dict`` turns a pretrain (RGB-target) state dict into a depth (1-channel target) one:
conv_out 3 -> 1 by averaging the three output filters (the new output is the mean of the former RGB
prediction, i.e. a grey image); conv_in's target part 3 -> 1 by summing the three input filters (exactly
equivalent to feeding the depth map replicated into the three former target channels). A state without
the FOV channel (or without the aspect channel) loaded into a model that takes it gets that channel's conv_in
filters as zeros, so the model starts out computing exactly what the loaded one did (``build_unet``
zero-initialises them too).
"""

from __future__ import annotations

from typing import Any

import torch

from depthgen.models.config import TASKS, ModelConfig

COND_CHANNELS = 4  # RGB + aux
FOV_CHANNELS = 1  # the FOV conditioning channel (model.fov_conditioning), after aux
ASPECT_CHANNELS = 1  # the aspect conditioning channel (model.aspect_conditioning), after the FOV channel
CAMERA_LAYOUTS = (COND_CHANNELS, COND_CHANNELS + FOV_CHANNELS, COND_CHANNELS + FOV_CHANNELS + ASPECT_CHANNELS)


def cond_channels(cfg: ModelConfig) -> int:
    """Condition channels before x_t: RGB + aux, plus the FOV channel when ``cfg.fov_conditioning`` and the
    aspect channel when ``cfg.aspect_conditioning``."""
    return (COND_CHANNELS + (FOV_CHANNELS if cfg.fov_conditioning else 0)
            + (ASPECT_CHANNELS if cfg.aspect_conditioning else 0))

# Sizes (RGB-target model): tiny 42k params (tests); small 3.8M params, measured ~0.9-1.1 s per training step
# (fwd + bwd + AdamW, batch 16, 64x64, fp32) on the 2-core CPU with 2 threads while it was idle (10-25 s/step
# when other jobs loaded it); base is meant for a GPU.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(block_out_channels=(8, 16), layers_per_block=1, attention_levels=(False, False),
                 norm_num_groups=4, attention_head_dim=8),
    "small": dict(block_out_channels=(32, 64, 96, 128), layers_per_block=1,
                  attention_levels=(False, False, True, True), norm_num_groups=16, attention_head_dim=32),
    "base": dict(block_out_channels=(64, 128, 256, 256), layers_per_block=2,
                 attention_levels=(False, False, True, True), norm_num_groups=32, attention_head_dim=32),
    # The paper's scale (an Imagen-family Efficient U-Net, here as a UNet2DModel): 5 levels, so inputs are multiples
    # of 16; 347M parameters as a depth model (configs/depthgen/paper_*.yaml; tests/depthgen/test_paper_recipes.py).
    "paper": dict(block_out_channels=(128, 256, 512, 768, 1024), layers_per_block=2,
                  attention_levels=(False, False, False, True, True), norm_num_groups=32, attention_head_dim=64),
}


def resolved(cfg: ModelConfig, presets: dict[str, dict[str, Any]] = PRESETS) -> dict[str, Any]:
    """Preset values (from ``presets``) with the config's explicit fields laid over them; any model config with
    ``preset`` and the preset's field names works (the text-to-image model's too)."""
    if cfg.preset not in presets:
        raise ValueError(f"model.preset must be one of {sorted(presets)}, got {cfg.preset!r}")
    out = dict(presets[cfg.preset])
    for key in out:
        value = getattr(cfg, key)
        if value is not None:
            out[key] = tuple(value) if isinstance(value, list) else value
    if len(out["attention_levels"]) != len(out["block_out_channels"]):
        raise ValueError("model.attention_levels needs one entry per entry of model.block_out_channels")
    return out


def unet_kwargs(cfg: ModelConfig, target_channels: int) -> dict[str, Any]:
    """Keyword arguments for ``UNet2DModel`` (also what its saved config holds)."""
    p = resolved(cfg)
    down = tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in p["attention_levels"])
    up = tuple("AttnUpBlock2D" if a else "UpBlock2D" for a in reversed(p["attention_levels"]))
    return dict(
        sample_size=cfg.sample_size,
        in_channels=cond_channels(cfg) + target_channels,
        out_channels=target_channels,
        block_out_channels=tuple(p["block_out_channels"]),
        layers_per_block=p["layers_per_block"],
        down_block_types=down,
        up_block_types=up,
        norm_num_groups=p["norm_num_groups"],
        attention_head_dim=p["attention_head_dim"],
        dropout=cfg.dropout,
        num_class_embeds=len(TASKS) if cfg.task_embedding else None,
    )


def build_unet(cfg: ModelConfig, target_channels: int, seed: int = 0) -> "torch.nn.Module":
    """A freshly initialised ``UNet2DModel``; initialisation is seeded (weights depend only on ``seed``)."""
    from diffusers import UNet2DModel

    devices = []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        unet = UNet2DModel(**unet_kwargs(cfg, target_channels))
    if cond_channels(cfg) > COND_CHANNELS:
        with torch.no_grad():  # zero-init: the camera channels change nothing until training uses them
            unet.conv_in.weight[:, COND_CHANNELS:cond_channels(cfg)] = 0.0
    return unet


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def unet_forward(unet: torch.nn.Module, cond: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor,
                 task: torch.Tensor | None) -> torch.Tensor:
    """Run the UNet on ``cat(cond, x_t)``.

    cond (B, 4, H, W) float in [-1, 1] (B, 5 or 6, H, W with the FOV and aspect channels); x_t (B, C, H, W); t (B,) long timesteps; task (B,) long ids or None.
    Returns (B, C, H, W) float: the prediction (epsilon / v / x0, per the diffusion config).
    """
    inp = torch.cat([cond, x_t], dim=1)  # (B, 4 [+1] + C, H, W)
    labels = task if getattr(unet.config, "num_class_embeds", None) else None
    if labels is None and getattr(unet.config, "num_class_embeds", None):
        raise ValueError("this UNet is task-conditioned: pass task ids (depthgen.models.config.TASKS indices)")
    return unet(inp, t, class_labels=labels).sample


def adapt_state_dict(state: dict[str, torch.Tensor], target_channels: int,
                     cond: int = COND_CHANNELS) -> dict[str, torch.Tensor]:
    """Adapt conv_in / conv_out of a state dict to ``target_channels`` and ``cond`` condition channels
    (see the module docstring). The state's own target channel count is its conv_out's."""
    out = dict(state)
    w_in = state["conv_in.weight"]  # (F, cond_old + C_old, 3, 3)
    c_old = state["conv_out.weight"].shape[0]
    cond_old = w_in.shape[1] - c_old
    if cond_old not in CAMERA_LAYOUTS or cond not in CAMERA_LAYOUTS:
        raise ValueError(f"cannot adapt a model with {cond_old} condition channels to {cond}")
    if cond_old > cond:
        flags = "model.fov_conditioning=true" + (" and model.aspect_conditioning=true" if cond_old == CAMERA_LAYOUTS[2] else "")
        raise ValueError(f"the weights take {cond_old - COND_CHANNELS} camera channel(s); load them into a model with {flags}")
    tgt = w_in[:, cond_old:]
    if c_old != target_channels:
        if target_channels == 1:
            tgt = tgt.sum(dim=1, keepdim=True)
            out["conv_out.weight"] = state["conv_out.weight"].mean(dim=0, keepdim=True)
            out["conv_out.bias"] = state["conv_out.bias"].mean(dim=0, keepdim=True)
        elif c_old == 1:  # depth -> RGB: replicate (inverse of the above, up to the 1/3 on conv_in)
            tgt = tgt.repeat(1, target_channels, 1, 1) / target_channels
            out["conv_out.weight"] = state["conv_out.weight"].repeat(target_channels, 1, 1, 1)
            out["conv_out.bias"] = state["conv_out.bias"].repeat(target_channels)
        else:
            raise ValueError(f"cannot adapt a {c_old}-channel target model to {target_channels} channels")
    elif cond_old == cond:
        return out
    extra = w_in.new_zeros(w_in.shape[0], cond - cond_old, *w_in.shape[2:])  # new camera channels: zero filters
    out["conv_in.weight"] = torch.cat([w_in[:, :cond_old], extra, tgt], dim=1)
    return out


def load_adapted(unet: torch.nn.Module, state: dict[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Load ``state`` into ``unet`` adapting the target channels; a mismatched architecture -> ValueError."""
    target = unet.config.out_channels
    state = adapt_state_dict(state, target, unet.config.in_channels - target)
    own = unet.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    bad = sorted(k for k in own if k in state and own[k].shape != state[k].shape)
    if missing or extra or bad:
        what = (missing or extra or bad)[0]
        raise ValueError(f"{source} does not match the model config (e.g. {what!r}); use the same model preset")
    unet.load_state_dict(state)
