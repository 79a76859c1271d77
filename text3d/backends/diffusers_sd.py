"""Stable Diffusion backends (diffusers): text-to-image and inpainting, from a local folder (a hub id is resolved
to its folder in the local Hugging Face cache by ``text3d.backends.hub``; nothing is downloaded here), on the
run's device in ``text3d.backends.placement.model_dtype``. ``AutoPipelineForText2Image`` /
``AutoPipelineForInpainting`` pick the pipeline class from the folder (``StableDiffusionPipeline`` /
``StableDiffusionInpaintPipeline`` for SD 1.x/2.x; a text-to-image SD folder also loads for inpainting, with latent
blending); their classifier-free guidance runs the conditional and unconditional predictions as one batch. Images
cross the protocol as (H, W, 3) float32 [0, 1]; the model runs at the size rounded up to a multiple of 8 and the
result is resized back; inpainting composites so that pixels outside the mask are returned unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from text3d.backends.embedded import check_image, check_mask
from text3d.backends.placement import load_pipeline
from text3d.backends.protocols import Capabilities, ImageResult

MULTIPLE = 8  # VAE downsampling factor of Stable Diffusion


def round_up(n: int, multiple: int = MULTIPLE) -> int:
    return max(multiple, -(-int(n) // multiple) * multiple)


def _resize(x: np.ndarray, height: int, width: int, mode: str = "bicubic") -> np.ndarray:
    """(h, w, c) float32 -> (height, width, c) float32 (no-op when the size already matches)."""
    if x.shape[:2] == (height, width):
        return x.astype(np.float32, copy=False)
    t = torch.from_numpy(np.ascontiguousarray(x, np.float32)).permute(2, 0, 1)[None]
    kw = {"align_corners": False, "antialias": True} if mode in ("bilinear", "bicubic") else {}
    t = torch.nn.functional.interpolate(t, size=(height, width), mode=mode, **kw)
    return t[0].permute(1, 2, 0).numpy().astype(np.float32)


def load_diffusers_pipeline(path: str | Path, task: str, device: str = "cpu"):
    """A diffusers pipeline for ``task`` ("t2i" | "inpaint") from a folder (``placement.load_pipeline``)."""
    from diffusers import AutoPipelineForInpainting, AutoPipelineForText2Image

    return load_pipeline(AutoPipelineForText2Image if task == "t2i" else AutoPipelineForInpainting, path, device)


class StableDiffusionTextToImage:
    """``TextToImageBackend`` over a diffusers text-to-image pipeline (classifier-free guidance)."""

    def __init__(self, pipe, name: str, guidance_scale: float = 7.5, negative_prompt: str | None = None):
        self.pipe, self.name = pipe, name
        self.guidance_scale, self.negative_prompt = float(guidance_scale), negative_prompt

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = "cpu", **kwargs) -> "StableDiffusionTextToImage":
        return cls(load_diffusers_pipeline(path, "t2i", device), str(path), **kwargs)

    def generate(self, prompt: str, *, height: int, width: int, steps: int,
                 generator: torch.Generator) -> ImageResult:
        """An (height, width, 3) float32 image in [0, 1]."""
        h8, w8 = round_up(height), round_up(width)
        out = self.pipe(prompt=prompt, negative_prompt=self.negative_prompt, height=h8, width=w8,
                        num_inference_steps=int(steps), guidance_scale=self.guidance_scale, generator=generator,
                        output_type="np")
        image = np.clip(np.asarray(out.images[0], np.float32), 0, 1)  # (h8, w8, 3)
        return ImageResult(np.clip(_resize(image, int(height), int(width)), 0, 1))


class StableDiffusionInpaint:
    """``InpaintBackend`` over a diffusers inpainting pipeline; unmasked pixels are composited back exactly."""

    capabilities = Capabilities(guidance=True)  # inpaint() also takes guidance_scale (None = this backend's default)

    def __init__(self, pipe, name: str, guidance_scale: float = 7.5, strength: float = 1.0,
                 negative_prompt: str | None = None):
        self.pipe, self.name = pipe, name
        self.guidance_scale, self.strength, self.negative_prompt = float(guidance_scale), float(strength), negative_prompt

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = "cpu", **kwargs) -> "StableDiffusionInpaint":
        return cls(load_diffusers_pipeline(path, "inpaint", device), str(path), **kwargs)

    def inpaint(self, image: np.ndarray, mask: np.ndarray, *, prompt: str, steps: int,
                generator: torch.Generator, guidance_scale: float | None = None) -> np.ndarray:
        """image (H, W, 3) float32 [0, 1]; mask (H, W) bool True = fill; prompt: what the view shows
        -> (H, W, 3), equal outside the mask."""
        image = np.clip(check_image(image), 0, 1)
        mask = check_mask(mask, image.shape[:2])
        if not mask.any():
            return image.copy()
        h, w = image.shape[:2]
        h8, w8 = round_up(h), round_up(w)
        img8 = np.clip(_resize(image, h8, w8), 0, 1)
        # nearest keeps the mask binary; any fill pixel must stay covered after resizing
        m8 = _resize(mask[..., None].astype(np.float32), h8, w8, mode="nearest")[..., 0] > 0.5
        out = self.pipe(prompt=prompt, negative_prompt=self.negative_prompt, image=img8[None],
                        mask_image=m8[None, ..., None].astype(np.float32), height=h8, width=w8,
                        num_inference_steps=int(steps), strength=self.strength,
                        guidance_scale=self.guidance_scale if guidance_scale is None else float(guidance_scale),
                        generator=generator, output_type="np")
        filled = np.clip(_resize(np.asarray(out.images[0], np.float32), h, w), 0, 1)
        return np.where(mask[..., None], filled, image).astype(np.float32)
