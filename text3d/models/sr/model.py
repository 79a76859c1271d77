"""The super-resolution network and the degradations it is trained on.

The network is a diffusers ``UNet2DModel`` that sees the bicubic-upsampled low-resolution image (``cond``,
(B, 3, H, W) in [-1, 1]) packed by ``pixel_unshuffle`` and predicts the high-resolution *residual* over it:

- ``regression``: one pass, ``residual = net(cond)``; the UNet's timestep input carries the conditioning-
  augmentation level (0..999).
- ``diffusion``: the noisy residual ``x_t`` is concatenated to ``cond``; the timestep input is the diffusion
  step and the level enters as a second timestep embedding (``class_embed_type="timestep"``).

The last convolution starts at zero, so an untrained network returns the bicubic upsampling.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from text3d.models.sr.config import SRAugConfig, SRModelConfig

LEVEL_STEPS = 1000  # the level a in [0, 1] enters the UNet as round(a * 999)


def build_unet(cfg: SRModelConfig, seed: int = 0) -> torch.nn.Module:
    """A fresh ``UNet2DModel`` of the configured kind (weights depend only on ``seed``; ``conv_out`` zero)."""
    from diffusers import UNet2DModel

    u2 = cfg.unshuffle ** 2
    n = len(cfg.block_out_channels)
    down = ["DownBlock2D"] * n
    up = ["UpBlock2D"] * n
    if cfg.attention:
        down[-1], up[0] = "AttnDownBlock2D", "AttnUpBlock2D"
    groups = math.gcd(*cfg.block_out_channels, 8)
    diffusion = cfg.kind == "diffusion"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DModel(in_channels=(6 if diffusion else 3) * u2, out_channels=3 * u2,
                           down_block_types=tuple(down), up_block_types=tuple(up),
                           block_out_channels=tuple(cfg.block_out_channels), layers_per_block=cfg.layers_per_block,
                           norm_num_groups=groups, class_embed_type="timestep" if diffusion else None,
                           add_attention=cfg.attention)
    with torch.no_grad():
        unet.conv_out.weight.zero_()
        unet.conv_out.bias.zero_()
    return unet


def level_timesteps(level: torch.Tensor) -> torch.Tensor:
    """(B,) float levels in [0, 1] -> (B,) long UNet timestep indices in [0, 999]."""
    return (level.clamp(0, 1) * (LEVEL_STEPS - 1)).round().long()


def sr_forward(unet: torch.nn.Module, cond: torch.Tensor, level: torch.Tensor, unshuffle: int,
               x_t: torch.Tensor | None = None, t: torch.Tensor | None = None) -> torch.Tensor:
    """The network's output (B, 3, H, W): the residual (regression) or the scheduler's target (diffusion).

    cond (B, 3, H, W) [-1, 1] upsampled input; level (B,) float in [0, 1]; x_t (B, 3, H, W) and t (B,) long
    for the diffusion variant. H and W must be multiples of ``unshuffle`` x the UNet's down-sampling."""
    lv = level_timesteps(level).to(cond.device)
    if x_t is None:
        out = unet(F.pixel_unshuffle(cond, unshuffle), lv).sample
    else:
        inp = F.pixel_unshuffle(torch.cat([x_t.to(cond.dtype), cond], 1), unshuffle)
        out = unet(inp, t.to(cond.device), class_labels=lv).sample
    return F.pixel_shuffle(out, unshuffle)  # (B, 3 u^2, H/u, W/u) -> (B, 3, H, W)


def downsample(hr: torch.Tensor, scale: int, kernel: str) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H/scale, W/scale). ``area``: the mean of each block (what a sensor integrates);
    ``point``: the value at the block centre (what one ray per pixel, the procedural renderer, sees)."""
    if kernel == "area":
        return F.avg_pool2d(hr, scale)
    if kernel == "point":
        if scale % 2:
            return hr[..., scale // 2::scale, scale // 2::scale]
        o = scale // 2 - 1  # the centre lies between pixels o and o + 1 of each block
        return F.avg_pool2d(hr[..., o:, o:], 2, stride=scale)[..., : hr.shape[-2] // scale, : hr.shape[-1] // scale]
    raise ValueError(f"unknown downsampling kernel {kernel!r}; use area or point")


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Blur each image of (B, C, H, W) with its own Gaussian ``sigma`` (B,) in pixels (0 = unchanged)."""
    b, c, h, w = x.shape
    radius = max(1, int(math.ceil(3 * float(sigma.max())))) if float(sigma.max()) > 0 else 0
    if radius == 0:
        return x
    radius = min(radius, h - 1, w - 1)
    r = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    s = sigma.to(x.device, x.dtype).clamp_min(1e-3)[:, None]
    k = torch.exp(-0.5 * (r[None] / s) ** 2)
    k = k / k.sum(1, keepdim=True)  # (B, 2r+1); sigma ~0 gives a delta
    k = k.repeat_interleave(c, 0)  # (B C, 2r+1)
    y = F.pad(x.reshape(1, b * c, h, w), (radius, radius, radius, radius), mode="reflect")
    y = F.conv2d(y, k[:, None, None, :], groups=b * c)
    y = F.conv2d(y, k[:, None, :, None], groups=b * c)
    return y.reshape(b, c, h, w)


def augment(lr: torch.Tensor, level: torch.Tensor, cfg: SRAugConfig, generator: torch.Generator) -> torch.Tensor:
    """Conditioning augmentation of (B, 3, h, w) [-1, 1]: blur sigma ``level x blur_sigma`` then Gaussian
    noise of std ``level x noise_std``; level (B,) in [0, 1]. The noise comes from ``generator`` (CPU)."""
    level = level.to(lr.device, lr.dtype)
    out = gaussian_blur(lr, level * cfg.blur_sigma)
    noise = torch.randn(lr.shape, generator=generator, dtype=torch.float32).to(lr.device, lr.dtype)
    return out + noise * (level * cfg.noise_std).view(-1, 1, 1, 1)


def hf_amplitude(x: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H / patch, W / patch): the RMS of the high-pass image (x minus its Gaussian blur,
    sigma 1 px) over each patch: how much fine texture each region holds, whatever its phase."""
    hp = x - gaussian_blur(x, torch.ones(x.shape[0], device=x.device))
    return (F.avg_pool2d(hp * hp, patch) + 1e-6).sqrt()


def upsample(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """Bicubic upsampling (B, 3, h, w) -> (B, 3, h scale, w scale): the base the residual is added to."""
    return F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False)
