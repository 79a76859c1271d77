"""The text-conditioned inpainting UNet: the text-to-image UNet with 1 + C more input channels.

Inputs, concatenated along channels: the noisy sample x_t (C), the two pixel-coordinate channels of the
text-to-image model (2), the hole mask (1, 1 = paint) and the masked sample (C, 0 inside the hole). C is 3
for a pixel model (9 inputs in all; samples in [-1, 1]) and the autoencoder's latent channels for a latent
model (32 + 2 + 1 + 32 = 67; normalised latents, so 0 is the mean latent, and the mask at the latent
resolution). As Stable Diffusion's inpainting model is made from Stable Diffusion, the network starts from
the text-to-image model's weights with the extra ``conv_in`` columns set to zero, so at step 0 it paints
exactly what the text-to-image model would, and learns to use the known pixels from there.
"""

from __future__ import annotations

import torch

from text3d.models.t2i.config import T2IModelConfig
from text3d.models.t2i.model import coordinate_channels, unet_kwargs

def condition_channels(cfg: T2IModelConfig) -> int:
    """Input channels added to the text-to-image UNet's: the mask (1) and the masked sample (C)."""
    return 1 + (cfg.latent_channels or 3)


def build_unet(cfg: T2IModelConfig, seed: int = 0) -> torch.nn.Module:
    """A fresh ``UNet2DConditionModel`` with C + 2 + 1 + C input channels (weights depend only on ``seed``)."""
    if not cfg.coord_channels:
        raise ValueError("the inpainting model needs model.coord_channels: true (it starts from the text-to-image model)")
    kwargs = unet_kwargs(cfg)
    kwargs["in_channels"] += condition_channels(cfg)
    from diffusers import UNet2DConditionModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return UNet2DConditionModel(**kwargs)


def load_from_t2i(unet: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load text-to-image (C + 2 input channels) or inpainting weights; missing ``conv_in`` columns are zero."""
    own = unet.state_dict()
    w = state.get("conv_in.weight")
    if w is None:
        raise ValueError("the starting weights have no conv_in.weight: not a text-to-image or inpainting UNet")
    if w.shape[1] < own["conv_in.weight"].shape[1]:
        wide = torch.zeros_like(own["conv_in.weight"])
        wide[:, : w.shape[1]] = w
        state = {**state, "conv_in.weight": wide}
    unet.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})


def model_input(x_t: torch.Tensor, mask: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
    """(B, 2C + 3, H, W): x_t (B, C, H, W), coordinates, mask (B, 1, H, W) in {0, 1}, masked sample (B, C, H, W)."""
    b, _, h, w = x_t.shape
    coords = coordinate_channels(b, h, w, x_t.device, x_t.dtype)  # (B, 2, H, W)
    return torch.cat([x_t, coords, mask.to(x_t.dtype), masked.to(x_t.dtype)], 1)


def unet_forward(unet: torch.nn.Module, x_t: torch.Tensor, t: torch.Tensor, text: torch.Tensor,
                 mask: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
    """The prediction (B, C, H, W) named by the scheduler's ``prediction_type``; text (B, 384), zeros = null."""
    text = text.to(x_t.dtype)
    return unet(model_input(x_t, mask, masked), t, encoder_hidden_states=text[:, None, :], class_labels=text).sample


def masked_image(x0: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The condition: x0 (B, C, H, W) in model space with the hole (mask 1) set to 0 (mid grey, or the mean
    latent)."""
    return x0 * (1.0 - mask)


