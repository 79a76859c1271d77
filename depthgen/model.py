"""The Palette-style conditional UNet (diffusers ``UNet2DModel``) and its size presets.

Input layout (channels, in this order): condition RGB (3) | aux (1: the task mask for Palette tasks, zeros
for depth) | noisy target x_t (3 for RGB targets, 1 for depth). Output: the target's channel count (the
quantity named by the diffusion prediction type). The task id goes through the UNet's class embedding
(``num_class_embeds = len(TASKS)``; ids in ``depthgen.recipe.TASKS``).

``adapt_state_dict`` turns a pretrain (RGB-target) state dict into a depth (1-channel target) one:
conv_out 3 -> 1 by averaging the three output filters (the new output is the mean of the former RGB
prediction, i.e. a grey image); conv_in's target part 3 -> 1 by summing the three input filters (exactly
equivalent to feeding the depth map replicated into the three former target channels).
"""

from __future__ import annotations

from typing import Any

import torch

from depthgen.recipe import TASKS, ModelConfig

COND_CHANNELS = 4  # RGB + aux

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
}


def resolved(cfg: ModelConfig) -> dict[str, Any]:
    """Preset values with the config's explicit fields laid over them."""
    if cfg.preset not in PRESETS:
        raise ValueError(f"model.preset must be one of {sorted(PRESETS)}, got {cfg.preset!r}")
    out = dict(PRESETS[cfg.preset])
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
        in_channels=COND_CHANNELS + target_channels,
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
        return UNet2DModel(**unet_kwargs(cfg, target_channels))


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def unet_forward(unet: torch.nn.Module, cond: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor,
                 task: torch.Tensor | None) -> torch.Tensor:
    """Run the UNet on ``cat(cond, x_t)``.

    cond (B, 4, H, W) float in [-1, 1]; x_t (B, C, H, W); t (B,) long timesteps; task (B,) long ids or None.
    Returns (B, C, H, W) float: the prediction (epsilon / v / x0, per the diffusion config).
    """
    inp = torch.cat([cond, x_t], dim=1)  # (B, 4 + C, H, W)
    labels = task if getattr(unet.config, "num_class_embeds", None) else None
    if labels is None and getattr(unet.config, "num_class_embeds", None):
        raise ValueError("this UNet is task-conditioned: pass task ids (depthgen.recipe.TASKS indices)")
    return unet(inp, t, class_labels=labels).sample


def adapt_state_dict(state: dict[str, torch.Tensor], target_channels: int) -> dict[str, torch.Tensor]:
    """Adapt conv_in / conv_out of a state dict to ``target_channels`` (see the module docstring)."""
    out = dict(state)
    w_in = state["conv_in.weight"]  # (F, 4 + C_old, 3, 3)
    c_old = w_in.shape[1] - COND_CHANNELS
    if c_old == target_channels:
        return out
    if target_channels == 1:
        tgt = w_in[:, COND_CHANNELS:].sum(dim=1, keepdim=True)
        out["conv_out.weight"] = state["conv_out.weight"].mean(dim=0, keepdim=True)
        out["conv_out.bias"] = state["conv_out.bias"].mean(dim=0, keepdim=True)
    elif c_old == 1:  # depth -> RGB: replicate (inverse of the above, up to the 1/3 on conv_in)
        tgt = w_in[:, COND_CHANNELS:].repeat(1, target_channels, 1, 1) / target_channels
        out["conv_out.weight"] = state["conv_out.weight"].repeat(target_channels, 1, 1, 1)
        out["conv_out.bias"] = state["conv_out.bias"].repeat(target_channels)
    else:
        raise ValueError(f"cannot adapt a {c_old}-channel target model to {target_channels} channels")
    out["conv_in.weight"] = torch.cat([w_in[:, :COND_CHANNELS], tgt], dim=1)
    return out


def load_adapted(unet: torch.nn.Module, state: dict[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Load ``state`` into ``unet`` adapting the target channels; a mismatched architecture -> ValueError."""
    target = unet.config.out_channels
    state = adapt_state_dict(state, target)
    own = unet.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    bad = sorted(k for k in own if k in state and own[k].shape != state[k].shape)
    if missing or extra or bad:
        what = (missing or extra or bad)[0]
        raise ValueError(f"{source} does not match the model config (e.g. {what!r}); use the same model preset")
    unet.load_state_dict(state)
