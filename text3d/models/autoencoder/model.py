"""``TinyAutoencoder``: the TAEF2 image autoencoder (256x256 RGB <-> 32x32x32 latents), as a diffusers model.

TAEF2 is Ollin Boer Bohan's tiny distillation of the FLUX.2 autoencoder (MIT; ``assets/autoencoder/LICENSE``).
Both halves are plain 3x3 convolutions with ReLU in residual blocks of 64 channels:

- encoder: conv, 1 block, then three times (stride-2 conv, 3 blocks), then a conv to ``latent_channels``;
  an image (B, 3, H, W) in [0, 1] becomes latents (B, 32, H/8, W/8), values roughly in [-3, 3];
- decoder: ``3 tanh(z / 3)``, conv, 3 blocks, then three times (nearest 2x upsampling, conv, blocks), then a conv
  to RGB; it gives (B, 3, 8h, 8w), clamped to [0, 1] by ``decode``.

The blocks at the latent's resolution (the last three of the encoder, the first three of the decoder) also carry
a global path: a 1x1 conv to 256 channels, GroupNorm with 4 groups, ReLU, and a 1x1 conv back, added to the
block's input before its residual convolutions. diffusers' ``AutoencoderTiny`` has no such path, which is why the
architecture is written here. Module indices follow the published state dicts (``nn.Sequential`` numbering),
so ``load_published`` reads them as they are.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

WIDTH = 64  # channels of every residual block
GLOBAL_WIDTH = 256  # channels of the global path
DOWNSCALE = 8  # image pixels per latent pixel, along each axis
LICENSE_FILE = "LICENSE"  # the published weights' licence (MIT), kept beside every saved copy


def _channels_last(x: torch.Tensor) -> torch.Tensor:
    """x (B, C, H, W) in channels-last memory order: the CPU convolutions of both halves run about 1.6x faster
    so (0.42 against 0.73 s per 256-px image encoded on one thread); values are unchanged up to rounding."""
    return x.contiguous(memory_format=torch.channels_last)


def conv3x3(n_in: int, n_out: int, **kwargs) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kwargs)


class ResidualBlock(nn.Module):
    """ReLU(convs(x') + x') with x' = x + global_path(x) when the block has one. x (B, 64, h, w) -> same shape."""

    def __init__(self, with_global_path: bool = False):
        super().__init__()
        self.conv = nn.Sequential(conv3x3(WIDTH, WIDTH), nn.ReLU(), conv3x3(WIDTH, WIDTH), nn.ReLU(),
                                  conv3x3(WIDTH, WIDTH))
        self.pool = nn.Sequential(nn.Conv2d(WIDTH, GLOBAL_WIDTH, 1, bias=False), nn.GroupNorm(4, GLOBAL_WIDTH),
                                  nn.ReLU(), nn.Conv2d(GLOBAL_WIDTH, WIDTH, 1, bias=False)) if with_global_path else None
        self.fuse = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = x + self.pool(x)
        return self.fuse(self.conv(x) + x)


class SoftClamp(nn.Module):
    """z -> 3 tanh(z / 3): keeps latents in (-3, 3) without a hard edge."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z / 3) * 3


def build_encoder(latent_channels: int) -> nn.Sequential:
    layers: list[nn.Module] = [conv3x3(3, WIDTH), ResidualBlock()]
    for level in range(3):
        layers += [conv3x3(WIDTH, WIDTH, stride=2, bias=False)]
        layers += [ResidualBlock(with_global_path=level == 2) for _ in range(3)]
    return nn.Sequential(*layers, conv3x3(WIDTH, latent_channels))


def build_decoder(latent_channels: int) -> nn.Sequential:
    layers: list[nn.Module] = [SoftClamp(), conv3x3(latent_channels, WIDTH), nn.ReLU()]
    layers += [ResidualBlock(with_global_path=True) for _ in range(3)]
    for n_blocks in (3, 3, 1):
        layers += [nn.Upsample(scale_factor=2), conv3x3(WIDTH, WIDTH, bias=False)]
        layers += [ResidualBlock() for _ in range(n_blocks)]
    return nn.Sequential(*layers, conv3x3(WIDTH, 3))


class TinyAutoencoder(ModelMixin, ConfigMixin):
    """Images (B, 3, H, W) in [0, 1], H and W multiples of 8 <-> latents (B, latent_channels, H/8, W/8)."""

    @register_to_config
    def __init__(self, latent_channels: int = 32):
        super().__init__()
        self.encoder = build_encoder(latent_channels)
        self.decoder = build_decoder(latent_channels)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, 3, H, W) in [0, 1] -> latents (B, C, H/8, W/8)."""
        if images.shape[-1] % DOWNSCALE or images.shape[-2] % DOWNSCALE:
            raise ValueError(f"image sides must be multiples of {DOWNSCALE}, got {tuple(images.shape[-2:])}")
        return self.encoder(_channels_last(images.to(self.dtype))).contiguous()

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """latents (B, C, h, w) -> images (B, 3, 8h, 8w) in [0, 1]."""
        return self.decoder(_channels_last(latents.to(self.dtype))).clamp(0, 1).contiguous()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))

    def save_pretrained(self, save_directory: str | Path, **kwargs) -> None:
        """diffusers' save of a float16 copy (the published precision: float32 would double the folder and add
        nothing), with the ``LICENSE`` of the folder the weights were loaded from copied beside it, so a pipeline
        folder that carries the autoencoder (its ``vae/``) carries the licence too."""
        model = self if self.dtype == torch.float16 else copy.deepcopy(self).to(torch.float16)
        super(TinyAutoencoder, model).save_pretrained(str(save_directory), **kwargs)
        licence = Path(str(self.config.get("_name_or_path") or "")) / LICENSE_FILE
        if licence.is_file():
            shutil.copyfile(licence, Path(save_directory) / LICENSE_FILE)

    @classmethod
    def load_published(cls, encoder_path: str | Path, decoder_path: str | Path) -> "TinyAutoencoder":
        """The published TAEF2 state dicts (``taef2_encoder.pth``, ``taef2_decoder.pth``) in this architecture."""
        model = cls()
        for half, path in ((model.encoder, encoder_path), (model.decoder, decoder_path)):
            state = torch.load(str(path), map_location="cpu", weights_only=True)
            try:
                half.load_state_dict(state)
            except RuntimeError as e:
                raise ValueError(f"{path}: not a TAEF2 state dict ({str(e).splitlines()[0]})") from None
        return model.eval()
