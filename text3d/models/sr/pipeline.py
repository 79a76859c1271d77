"""``SuperResolutionPipeline``: a (h, w, 3) view -> the same view at ``scale`` x the size.

A diffusers ``DiffusionPipeline`` with ``unet`` (``UNet2DModel``, see ``text3d.models.sr.model``) and
``scheduler`` (the diffusion variant's training schedule as a DDIM config; the regression variant stores
one too and never uses it). The pipeline config records the kind, scale, pixel-unshuffle factor, the
conditioning augmentation and the defaults (level, steps).

Input: the image is bicubic-upsampled, and before that blurred and noised with the conditioning-augmentation
level (as in training; noise from ``generator``), so the network treats the base model's blotches as the
degradation it learned to remove. Sizes that are not multiples of the network's down-sampling are padded
(reflect) and cropped back.
"""

from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F

from depthgen.models.sampling import resolve_generator
from text3d.models.loading import LocalPipeline
from text3d.models.sr.config import SRAugConfig
from text3d.models.sr.model import augment, sr_forward, upsample
from text3d.models.t2i.pipeline import make_scheduler


class SuperResolutionPipeline(LocalPipeline):
    """Super-resolution of views (see the module docstring)."""

    export_hint = "train or export one with python -m text3d.models.sr.train"

    model_cpu_offload_seq = "unet"

    def __init__(self, unet, scheduler, kind: str = "regression", scale: int = 4, unshuffle: int = 2,
                 blur_sigma: float = 1.0, noise_std: float = 0.16, residual_scale: float = 4.0,
                 default_level: float = 0.1, default_steps: int = 4):
        super().__init__()
        if kind not in ("regression", "diffusion"):
            raise ValueError(f"kind must be regression or diffusion, got {kind!r}")
        self.register_modules(unet=unet, scheduler=scheduler)
        self.register_to_config(kind=kind, scale=int(scale), unshuffle=int(unshuffle), blur_sigma=float(blur_sigma),
                                noise_std=float(noise_std), residual_scale=float(residual_scale),
                                default_level=float(default_level), default_steps=int(default_steps))

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs) -> "SuperResolutionPipeline":
        """Load a saved folder (``LocalPipeline``) into fresh parameter memory."""
        pipe = super().from_pretrained(pretrained_model_name_or_path, **kwargs)
        for p in pipe.unet.parameters():  # fresh, aligned memory: views into the loaded file take other SIMD
            p.data = p.data.clone()       # paths and differ from the saved model in the last bit
        return pipe

    @property
    def multiple(self) -> int:
        """Output sides are padded to a multiple of this (pixel-unshuffle x the UNet's down-sampling)."""
        return self.config.unshuffle * 2 ** (len(self.unet.config.block_out_channels) - 1)

    def _residual(self, cond: torch.Tensor, level: torch.Tensor, steps: int, generator: torch.Generator) -> torch.Tensor:
        u = self.config.unshuffle
        if self.config.kind == "regression":
            return sr_forward(self.unet, cond, level, u)
        sched = make_scheduler(self.scheduler.config, "ddim")
        sched.set_timesteps(int(steps), device=cond.device)
        x = torch.randn(cond.shape, generator=generator, dtype=torch.float32).to(cond.device, cond.dtype)
        for t in sched.timesteps:
            tt = torch.full((cond.shape[0],), int(t), device=cond.device, dtype=torch.long)
            out = sr_forward(self.unet, cond, level, u, x_t=x, t=tt)
            x = sched.step(out, t, x).prev_sample
        return x / self.config.residual_scale

    @torch.no_grad()
    def __call__(self, image: np.ndarray, level: float | None = None, num_inference_steps: int | None = None,
                 generator: torch.Generator | None = None) -> np.ndarray:
        """Super-resolve one image.

        image: (h, w, 3) float32 in [0, 1] (or uint8); level: conditioning-augmentation level in [0, 1]
        (None = the saved default; 0 = trust the input); num_inference_steps: diffusion variant only (None =
        the saved default); generator: CPU generator of the augmentation noise and the sampler (None: torch's global RNG, ``depthgen.models.sampling.resolve_generator``).
        Returns (h scale, w scale, 3) float32 in [0, 1].
        """
        a = np.asarray(image)
        if a.ndim != 3 or a.shape[2] != 3:
            raise ValueError(f"need an (H, W, 3) image, got shape {a.shape}")
        a = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
        level = self.config.default_level if level is None else float(level)
        if not 0 <= level <= 1:
            raise ValueError(f"the conditioning level must be in [0, 1], got {level}")
        steps = self.config.default_steps if num_inference_steps is None else int(num_inference_steps)
        if steps < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {steps}")
        g = resolve_generator(generator)
        device, dtype = self.unet.device, self.unet.dtype
        s = self.config.scale
        h, w = a.shape[:2]
        m = max(1, self.multiple // s) if self.multiple % s == 0 else self.multiple  # input padding multiple
        ph, pw = (-h) % m, (-w) % m
        x = torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None] * 2 - 1  # (1, 3, h, w)
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        lv = torch.full((1,), level)
        aug = SRAugConfig(blur_sigma=self.config.blur_sigma, noise_std=self.config.noise_std)
        cond = upsample(augment(x, lv, aug, g), s).to(device, dtype)
        out = (cond + self._residual(cond, lv.to(device), steps, g)).float().clamp(-1, 1)
        out = out[..., : h * s, : w * s]
        return ((out[0].permute(1, 2, 0).cpu().numpy() + 1) / 2).astype(np.float32)
