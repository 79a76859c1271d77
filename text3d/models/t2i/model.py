"""The text-conditioned UNet: diffusers ``UNet2DConditionModel`` with the pooled sentence embedding.

Why this layout (measured on the shared 2-core CPU, 64x64, fp32, 2 threads; times are noisy):
the pooled 384-d all-MiniLM embedding goes through the UNet's ``class_embed_type="projection"`` MLP and is
added to the timestep embedding; the blocks use self-attention only (no cross-attention). Preset ``small``
(3.5M params) ran a guided sampling step (batch 2) in ~45-55 ms and a training step (batch 32, fwd+bwd+AdamW)
in ~1.7-3.3 s. The same UNet with cross-attention over token embeddings at the two lowest levels had 5.6M
params, ~85 ms per guided step and ~4.3 s per training step. Sentence-level embeddings are also what the
encoder was trained to make semantically close for paraphrases ("a cozy library" ~ "a room with
bookshelves"), which is what lets unseen prompts land on a matching scene.

With ``coord_channels`` the UNet also sees two constant channels holding each pixel's (y, x) position in
[-1, 1]. Why: the text enters only through the global timestep embedding, and a convolutional net fed pure
noise can place things (sky above, floor below) only by inferring position from its zero padding. The
v-prediction model trained without them (1400 steps) predicted, from pure noise, a flat colour per prompt
with no layout at all, and its samples were colour fields. The saved ``in_channels`` (5 instead of 3) tells
``unet_forward`` to add them, so old pipelines keep working.

The embedding is also passed as a one-token ``encoder_hidden_states`` (unused by these blocks; required by
the forward signature and ready for cross-attention variants).
"""

from __future__ import annotations

from typing import Any

import torch

from depthgen.models.unet import resolved as resolve_preset
from text3d.models.t2i.config import T2IModelConfig
from text3d.models.t2i.text_encoder import TEXT_DIM

COORD_CHANNELS = 2  # (y, x) pixel coordinates

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(block_out_channels=(8, 16), layers_per_block=1, attention_levels=(False, True),
                 norm_num_groups=4, attention_head_dim=8),
    "small": dict(block_out_channels=(32, 64, 96, 128), layers_per_block=1,
                  attention_levels=(False, False, True, True), norm_num_groups=16, attention_head_dim=32),
}


def resolved(cfg: T2IModelConfig) -> dict[str, Any]:
    """Preset values with the config's explicit fields laid over them (``depthgen.models.unet.resolved``)."""
    out = resolve_preset(cfg, PRESETS)
    if any(c % out["norm_num_groups"] for c in out["block_out_channels"]):
        raise ValueError("every model.block_out_channels entry must be divisible by model.norm_num_groups")
    return out


def unet_kwargs(cfg: T2IModelConfig, text_dim: int = TEXT_DIM) -> dict[str, Any]:
    """Keyword arguments for ``UNet2DConditionModel`` (also what its saved config holds)."""
    p = resolved(cfg)
    channels = cfg.latent_channels or 3
    down = tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in p["attention_levels"])
    up = tuple("AttnUpBlock2D" if a else "UpBlock2D" for a in reversed(p["attention_levels"]))
    return dict(
        sample_size=cfg.sample_size, in_channels=channels + (COORD_CHANNELS if cfg.coord_channels else 0),
        out_channels=channels,
        down_block_types=down, up_block_types=up, mid_block_type="UNetMidBlock2D",
        block_out_channels=tuple(p["block_out_channels"]), layers_per_block=p["layers_per_block"],
        norm_num_groups=p["norm_num_groups"], attention_head_dim=p["attention_head_dim"],
        cross_attention_dim=text_dim,
        class_embed_type="projection", projection_class_embeddings_input_dim=text_dim,
    )


def build_unet(cfg: T2IModelConfig, seed: int = 0) -> torch.nn.Module:
    """A freshly initialised ``UNet2DConditionModel``; the weights depend only on ``seed``."""
    from diffusers import UNet2DConditionModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return UNet2DConditionModel(**unet_kwargs(cfg))


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def coordinate_channels(b: int, h: int, w: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """(b, 2, h, w): pixel-centre y (row, top -1 .. bottom 1) and x (column, left -1 .. right 1)."""
    ys = (torch.arange(h, device=device, dtype=dtype) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, device=device, dtype=dtype) + 0.5) / w * 2 - 1
    grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij"))  # (2, h, w)
    return grid.expand(b, 2, h, w)


def unet_forward(unet: torch.nn.Module, x_t: torch.Tensor, t: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """x_t (B, C, H, W) noisy image or latents; t (B,) long timesteps; text (B, 384) embeddings (zeros = null).

    Returns (B, C, H, W): the prediction named by the scheduler's ``prediction_type``. A UNet saved with two
    more ``in_channels`` than it outputs gets the coordinate channels appended here.
    """
    text = text.to(x_t.dtype)
    out_channels = int(unet.config.out_channels)
    if x_t.shape[1] != out_channels:
        raise ValueError(f"the UNet denoises {out_channels} input channels (it takes {unet.config.in_channels} with "
                         f"the coordinates); got an image of {x_t.shape[1]}")
    if int(unet.config.in_channels) - out_channels == COORD_CHANNELS:
        b, _, h, w = x_t.shape
        x_t = torch.cat([x_t, coordinate_channels(b, h, w, x_t.device, x_t.dtype)], 1)
    return unet(x_t, t, encoder_hidden_states=text[:, None, :], class_labels=text).sample


def load_widened(unet: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load ``state`` into ``unet``; a ``conv_in`` with fewer input channels (a model trained without the
    coordinate channels) is widened with zero weights, so the loaded model starts out computing the same."""
    own = unet.state_dict()
    w = state.get("conv_in.weight")
    if w is not None and w.shape[1] < own["conv_in.weight"].shape[1]:
        wide = torch.zeros_like(own["conv_in.weight"])
        wide[:, : w.shape[1]] = w
        state = {**state, "conv_in.weight": wide}
    unet.load_state_dict(state)
