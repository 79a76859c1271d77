"""Train the super-resolution model on the shared trainer (``depthgen.training.trainer``).

    python -m text3d.models.sr.train --config configs/models/sr/sr.yaml [key=value ...] [--resume]
                                     [--max-steps N] [--export DIR]

Each example: a random ``data.crop`` square of a procedural render at full resolution (flipped at random),
its low-resolution version (``area`` or ``point`` down-sampling), blurred and noised with a random
conditioning-augmentation level, upsampled bicubically. The regression variant predicts the residual to the
true crop (L1 or L2); the diffusion variant denoises that residual (x ``residual_scale``). Every draw comes
from the trainer's generator for the global batch, so resume and multi-process runs are exact.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from depthgen.common.io import atomic_dir, weights_mb
from depthgen.training import cli as train_cli
from depthgen.training.trainer import global_batches
from text3d.models.sr.config import SRRecipe
from text3d.models.sr.model import augment, build_unet, downsample, hf_amplitude, sr_forward, upsample
from text3d.models.sr.pipeline import SuperResolutionPipeline

CARD = """# Embedded super-resolution model (text3d.models.sr)

Takes a text-to-3D view from the 64-px base models to {scale}x the size (64 -> {out}), cleaning up the base
model's blotches rather than sharpening them. Loaded with
`text3d.models.sr.SuperResolutionPipeline.from_pretrained(this_folder)`.

- Kind: `{kind}` ({kind_text}).
- Architecture: diffusers `UNet2DModel` ({params:,} parameters), blocks {blocks}, over the bicubic-upsampled
  input packed by pixel-unshuffle x{unshuffle}; it predicts the residual over the bicubic upsampling.
- Conditioning augmentation (Ho et al. 2021): input blurred (sigma up to {blur} px) and noised (std up to
  {noise}) with a random level in [0, 1] told to the network; default level {level} at inference.
- Training: {steps} steps, batch {batch}, {crop}-px crops, AdamW lr {lr}, loss {loss}; data `{data}`
  ({n} images; low-resolution input by {kernels} down-sampling).
- Weights: {dtype} safetensors ({size_mb:.1f} MB).

Limits: it knows the procedural generator's renders. Figures: docs/super_resolution.md
(`python -m bench.super_resolution`); recipe: configs/models/sr/sr.yaml.
"""


def synthetic_images(n: int, side: int, seed: int) -> np.ndarray:
    """(n, side, side, 3) uint8 toy images with sharp edges (boxes, discs, stripes) for tests and debug runs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side].astype(np.float32)
    out = np.empty((n, side, side, 3), np.uint8)
    for i in range(n):
        img = np.tile(rng.uniform(0, 1, 3), (side, side, 1)).astype(np.float32)
        for _ in range(4):
            c = rng.uniform(0, 1, 3)
            x0, y0 = rng.uniform(0, side, 2)
            r = rng.uniform(side / 10, side / 3)
            kind = rng.integers(3)
            if kind == 0:
                m = (np.abs(xx - x0) < r) & (np.abs(yy - y0) < r / 2)
            elif kind == 1:
                m = (xx - x0) ** 2 + (yy - y0) ** 2 < r ** 2
            else:
                m = (np.sin((xx + yy) / rng.uniform(1.5, 4)) > 0) & ((xx - x0) ** 2 + (yy - y0) ** 2 < r ** 2)
            img[m] = c
        out[i] = (img * 255).astype(np.uint8)
    return out


def load_images(recipe: SRRecipe) -> torch.Tensor:
    """(N, H, W, 3) uint8 training images (shards' ``rgb`` or the synthetic set)."""
    d = recipe.data
    if d.kind == "synthetic":
        return torch.from_numpy(synthetic_images(d.synthetic_size, d.synthetic_side, recipe.train.seed))
    path = Path(d.path)
    files = sorted(path.glob("shard-*.npz")) if path.is_dir() else []
    if not files:
        raise ValueError(f"data.path {path} holds no shards; write them with python -m depthgen.data.procedural "
                         f"--out {path} --n N --size 256x256 --split train")
    parts, n = [], 0
    for f in files:
        with np.load(f) as z:
            rgb = z["rgb"]
        parts.append(rgb)
        n += len(rgb)
        if 0 < d.max_samples <= n:
            break
    images = np.concatenate(parts)
    if d.max_samples > 0:
        images = images[: d.max_samples]
    if min(images.shape[1:3]) < d.crop:
        raise ValueError(f"data.crop {d.crop} is larger than the images ({images.shape[2]}x{images.shape[1]})")
    return torch.from_numpy(images)


class SRTask:
    """``depthgen.training.trainer.TrainingTask`` of the super-resolution model."""

    def __init__(self, recipe: SRRecipe):
        self.recipe = recipe
        self._images: torch.Tensor | None = None  # read when training starts (an export needs none)
        self.noise_scheduler = None
        if recipe.model.kind == "diffusion":
            from diffusers import DDPMScheduler

            d = recipe.diffusion
            self.noise_scheduler = DDPMScheduler(num_train_timesteps=d.num_train_timesteps,
                                                 beta_schedule=d.beta_schedule, prediction_type=d.prediction_type,
                                                 clip_sample=False)

    @property
    def images(self) -> torch.Tensor:
        """(N, H, W, 3) uint8 training images, loaded on first use."""
        if self._images is None:
            self._images = load_images(self.recipe)
        return self._images

    def build_model(self) -> torch.nn.Module:
        return build_unet(self.recipe.model, seed=self.recipe.train.seed)

    def load_init(self, model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
        try:
            own = model.state_dict()
            model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})
        except (RuntimeError, KeyError) as e:
            raise ValueError(f"{source}: weights do not fit this model ({str(e).splitlines()[0]})") from None

    def crops(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, 3, C, C) float32 [-1, 1] random crops (offsets on the scale grid) of random training images."""
        r, g = self.recipe, generator
        c, s = r.data.crop, r.model.scale
        num, h, w = self.images.shape[:3]
        idx = torch.randint(0, num, (n,), generator=g)
        ys = torch.randint(0, (h - c) // s + 1, (n,), generator=g) * s
        xs = torch.randint(0, (w - c) // s + 1, (n,), generator=g) * s
        flip = torch.rand(n, generator=g) < (0.5 if r.data.hflip else 0.0)
        out = torch.stack([self.images[i, y:y + c, x:x + c] for i, y, x in zip(idx.tolist(), ys.tolist(), xs.tolist())])
        out = out.permute(0, 3, 1, 2).float() / 127.5 - 1  # (n, 3, C, C)
        return torch.where(flip.view(-1, 1, 1, 1), out.flip(-1), out)

    def draw(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """A batch: hr (n, 3, C, C), cond (n, 3, C, C) the augmented input upsampled, level (n,) and, for the
        diffusion variant, t (n,) and noise (n, 3, C, C)."""
        r, g = self.recipe, generator
        s, a = r.model.scale, r.augment
        hr = self.crops(n, g)
        pick = torch.randint(0, len(a.lr_kernels), (n,), generator=g)
        lr = torch.zeros(n, 3, hr.shape[2] // s, hr.shape[3] // s)
        for k, name in enumerate(a.lr_kernels):
            lr = torch.where((pick == k).view(-1, 1, 1, 1), downsample(hr, s, name), lr)
        level = torch.rand(n, generator=g) * (torch.rand(n, generator=g) >= a.zero_fraction)
        cond = upsample(augment(lr, level, a, g), s)
        batch = {"hr": hr, "cond": cond, "level": level}
        if self.noise_scheduler is not None:
            batch["t"] = torch.randint(0, r.diffusion.num_train_timesteps, (n,), generator=g)
            batch["noise"] = torch.randn(hr.shape, generator=g)
        return batch

    def batches(self, generator: torch.Generator, start_step: int, rank: int,
                world_size: int) -> Iterator[dict[str, torch.Tensor]]:
        return global_batches(self.draw, self.recipe.train.batch_size, generator, rank, world_size)

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        r = self.recipe
        cond, residual, level = batch["cond"], batch["hr"] - batch["cond"], batch["level"]
        u = r.model.unshuffle
        if self.noise_scheduler is None:
            pred = sr_forward(model, cond, level, u).float()
            f = torch.nn.functional.l1_loss if r.loss == "l1" else torch.nn.functional.mse_loss
            loss = f(pred, residual.float())
            if r.hf_weight > 0:
                out, hr = cond.float() + pred, batch["hr"].float()
                loss = loss + r.hf_weight * torch.nn.functional.l1_loss(hf_amplitude(out, r.hf_patch),
                                                                        hf_amplitude(hr, r.hf_patch))
            return loss
        sched, t, noise = self.noise_scheduler, batch["t"], batch["noise"]
        x0 = residual * r.diffusion.residual_scale
        x_t = sched.add_noise(x0, noise, t)
        kind = sched.config.prediction_type
        target = {"epsilon": noise, "sample": x0}.get(kind)
        if target is None:
            target = sched.get_velocity(x0, noise, t)
        pred = sr_forward(model, cond, level, u, x_t=x_t, t=t)
        return torch.nn.functional.mse_loss(pred.float(), target.float())

    def pipeline(self, model: torch.nn.Module, dtype: torch.dtype = torch.float32) -> SuperResolutionPipeline:
        """A pipeline holding a copy of ``model``'s weights in ``dtype``."""
        from diffusers import DDIMScheduler, DDPMScheduler

        r = self.recipe
        unet = build_unet(r.model, seed=r.train.seed)
        unet.load_state_dict(model.state_dict())
        d = r.diffusion
        sched = self.noise_scheduler or DDPMScheduler(num_train_timesteps=d.num_train_timesteps,
                                                      beta_schedule=d.beta_schedule,
                                                      prediction_type=d.prediction_type, clip_sample=False)
        return SuperResolutionPipeline(unet.to(dtype), DDIMScheduler.from_config(sched.config), kind=r.model.kind,
                                       scale=r.model.scale, unshuffle=r.model.unshuffle,
                                       blur_sigma=r.augment.blur_sigma, noise_std=r.augment.noise_std,
                                       residual_scale=d.residual_scale, default_level=r.default_level,
                                       default_steps=r.default_steps)

    def export(self, model: torch.nn.Module, target: Path, step: int) -> Path:
        r = self.recipe
        dtype = torch.float16 if r.train.export_dtype == "float16" else torch.float32
        pipe = self.pipeline(model, dtype)
        with atomic_dir(target, keep=("README.md",)) as tmp:  # a card edited by hand stays
            self._save(pipe, tmp, step)
        return target

    def _save(self, pipe: SuperResolutionPipeline, tmp: Path, step: int) -> None:
        """Write ``pipe`` and its card (``CARD``) into the folder ``tmp``."""
        r = self.recipe
        pipe.save_pretrained(str(tmp))
        size = weights_mb(tmp)
        kind_text = ("one pass" if r.model.kind == "regression"
                     else f"DDIM sampling, {r.default_steps} steps by default, `{r.diffusion.prediction_type}` target")
        (tmp / "README.md").write_text(CARD.format(
            scale=r.model.scale, out=64 * r.model.scale, kind=r.model.kind, kind_text=kind_text,
            params=sum(p.numel() for p in pipe.unet.parameters()), blocks=list(r.model.block_out_channels),
            unshuffle=r.model.unshuffle, blur=r.augment.blur_sigma, noise=r.augment.noise_std,
            level=r.default_level, steps=step, batch=r.train.batch_size * r.train.grad_accum, crop=r.data.crop,
            lr=r.train.lr, loss=(r.loss + (f" + {r.hf_weight:g} x texture (local high-frequency amplitude)" if r.hf_weight else ""))
            if r.model.kind == "regression" else "l2", n=len(self._images) if self._images is not None else "?",
            data=f"{r.data.kind}: {r.data.path if r.data.kind != 'synthetic' else 'toy shapes'}",
            kernels=" / ".join(r.augment.lr_kernels), dtype=r.train.export_dtype, size_mb=size), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    return train_cli.main("python -m text3d.models.sr.train", __doc__.split("\n\n")[0], SRRecipe, SRTask, argv)


if __name__ == "__main__":
    sys.exit(main())
