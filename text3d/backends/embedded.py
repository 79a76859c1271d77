"""Backends over the project's own embedded pipelines: text-to-image (``TextToImagePipeline``), text-conditioned
inpainting (``text3d.models.inpaint.TextInpaintPipeline``) and the older prompt-blind inpainting
(``depthgen.PalettePipeline``). Both work at their model resolution (64x64); other view sizes are
produced by resizing (text-to-image: centre crop to the aspect, then resize; inpainting: the pipeline resizes
and copies the known pixels back exactly).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from text3d.backends.placement import load_pipeline
from text3d.backends.protocols import Capabilities, ImageResult


def resize_image(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w, 3) float32 [0, 1] -> (height, width, 3) float32 [0, 1]; centre-crops to the target aspect first."""
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image.astype(np.float32, copy=False)
    scale = min(h / height, w / width)
    ch, cw = max(1, round(height * scale)), max(1, round(width * scale))
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = torch.from_numpy(np.ascontiguousarray(image[top:top + ch, left:left + cw], np.float32))
    x = crop.permute(2, 0, 1)[None]  # (1, 3, ch, cw)
    x = torch.nn.functional.interpolate(x, size=(height, width), mode="bicubic", antialias=True, align_corners=False)
    return x[0].permute(1, 2, 0).clamp(0, 1).numpy().astype(np.float32)


def check_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    a = np.asarray(image, dtype=np.float32)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"{what} must be (H, W, 3) float in [0, 1], got shape {a.shape}")
    return a


def check_mask(mask: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    m = np.asarray(mask)
    if m.shape != hw:
        raise ValueError(f"mask shape {m.shape} must equal the image size {hw}")
    return m.astype(bool)


class EmbeddedTextToImage:
    """``TextToImageBackend`` over ``text3d.models.t2i.TextToImagePipeline`` (guided DDIM sampling)."""

    def __init__(self, pipe, name: str = "embedded", guidance_scale: float | None = None, scheduler: str = "ddim"):
        self.pipe, self.name = pipe, name
        # generate() also takes the pipeline's layout_strength; a latent model paints full-resolution pixels
        self.capabilities = Capabilities(layout_strength=True, full_resolution=getattr(pipe, "is_latent", False))
        # None: the guidance saved with the pipeline (``TextToImagePipeline.config.guidance_scale``)
        self.guidance_scale = None if guidance_scale is None else float(guidance_scale)
        self.scheduler = scheduler

    @classmethod
    def from_path(cls, path: str | Path, device: str = "cpu", name: str | None = None) -> "EmbeddedTextToImage":
        from text3d.models.t2i.pipeline import TextToImagePipeline

        return cls(load_pipeline(TextToImagePipeline, path, device), name or str(path))

    def generate(self, prompt: str, *, height: int, width: int, steps: int,
                 generator: torch.Generator, layout_strength: float | None = None) -> ImageResult:
        """An (height, width, 3) float32 image in [0, 1] for ``prompt``, with how sampling started as its
        ``info`` (``_describe_start``); ``layout_strength`` None = the pipeline's saved default (see
        ``TextToImagePipeline``)."""
        if not isinstance(prompt, str):
            raise ValueError(f"prompt must be a string, got {type(prompt).__name__}")
        result = self.pipe.sample(prompt, num_inference_steps=int(steps), guidance_scale=self.guidance_scale,
                                  generator=generator, scheduler=self.scheduler, layout_strength=layout_strength)
        return ImageResult(resize_image(result.images[0], int(height), int(width)),
                           self._describe_start(layout_strength, result.layouts))

    def _describe_start(self, layout_strength: float | None, picks: list[int] | None) -> dict:
        """The layout strength and, when sampling started from a retrieved layout (``picks``, the bank index of
        each image), which one."""
        s = self.pipe.config.layout_strength if layout_strength is None else layout_strength
        info: dict = {"layout_strength": float(s)}
        bank = getattr(self.pipe, "layout_bank", None)
        if picks and bank is not None:
            j = int(picks[0])
            info["layout"] = {"bank_index": j,
                              "scene_type": bank.scene_types[j] if bank.scene_types else None,
                              "training_index": bank.sources[j] if bank.sources else None}
        return info


class EmbeddedInpaint:
    """``InpaintBackend`` over ``depthgen.PalettePipeline.inpaint`` (the prompt is not used by this model)."""

    def __init__(self, pipe, name: str = "embedded"):
        self.pipe, self.name = pipe, name

    @classmethod
    def from_path(cls, path: str | Path, device: str = "cpu", name: str | None = None) -> "EmbeddedInpaint":
        from depthgen.models.palette_pipeline import PalettePipeline

        return cls(load_pipeline(PalettePipeline, path, device), name or str(path))

    def inpaint(self, image: np.ndarray, mask: np.ndarray, *, prompt: str, steps: int,
                generator: torch.Generator) -> np.ndarray:
        """image (H, W, 3) float32 [0, 1]; mask (H, W) bool True = fill -> (H, W, 3), equal outside the mask."""
        image = check_image(image)
        mask = check_mask(mask, image.shape[:2])
        if not mask.any():
            return image.copy()
        if mask.all():  # nothing to condition on: Palette refuses; a uniform mid-grey canvas is its usual fill
            image = np.full_like(image, 0.5)
            mask = mask.copy()
            mask[0, 0] = False
        out = self.pipe.inpaint(image, mask, num_inference_steps=int(steps), generator=generator)
        return np.where(mask[..., None], np.clip(out, 0, 1), image).astype(np.float32)


def thin_holes(mask: np.ndarray, max_width: int) -> np.ndarray:
    """(H, W) bool: the pixels of the connected hole pieces (8-connected) that are nowhere wider than
    ``max_width`` pixels (cracks and slivers between mesh pieces); the wider pieces are left out."""
    import cv2

    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    widest = np.zeros(count, np.float32)
    np.maximum.at(widest, labels.ravel(), inside.ravel())
    thin = widest <= max_width / 2
    thin[0] = False  # label 0 is the known region
    return thin[labels]


# Holes under this share of the picture get the expected fill (below); chosen on the val split of
# bench.inpainting's holes (docs/training/inpaint.md): under 30% it beat Telea indoors, and the default orbit's views
# (48-74% unseen) stay painted by sampling.
EXPECTED_FILL_BELOW = 0.3
# The expected fill averages these classical fills ((method, radius) of ``classical_fill``) with the model's
# one-step guess, which takes EXPECTED_FILL_MODEL_WEIGHT of it; 11 mixes tried on val (docs/training/inpaint.md).
EXPECTED_FILL_CLASSICAL = (("telea", 3), ("telea", 1), ("ns", 3))
EXPECTED_FILL_MODEL_WEIGHT = 0.25


def unit_interval(value: float, what: str) -> float:
    """``value`` as a float, or a ValueError naming ``what`` unless it lies in [0, 1]."""
    v = float(value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{what} must be in [0, 1], got {value}")
    return v


CLASSICAL_FILLS = ("telea", "ns")  # OpenCV cv2.inpaint: Telea's fast marching, Navier-Stokes


def classical_fill(image: np.ndarray, mask: np.ndarray, method: str = "telea", radius: int = 3) -> np.ndarray:
    """OpenCV inpainting (``telea`` | ``ns``) of ``mask`` in an (H, W, 3) float [0, 1] image, on its 8-bit copy;
    pixels outside ``mask`` are returned unchanged."""
    import cv2

    if method not in CLASSICAL_FILLS:
        raise ValueError(f"unknown inpainting method {method!r}; use one of {', '.join(CLASSICAL_FILLS)}")
    flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
    u8 = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    out = cv2.inpaint(u8, mask.astype(np.uint8), radius, flag).astype(np.float32) / 255
    return np.where(mask[..., None], out, image).astype(np.float32)


class EmbeddedTextInpaint:
    """``InpaintBackend`` over ``TextInpaintPipeline``: the view's prompt guides what is painted.

    Two kinds of hole, two fills:
    - **small holes** (the whole hole under ``expected_fill_below`` of the picture: the disocclusions of a walk,
      a small clean-up): the *expected* fill, the mean of OpenCV's Telea (radius 3 and 1) and Navier-Stokes
      fills (``EXPECTED_FILL_CLASSICAL``), with ``expected_fill_model_weight`` of it the model's one-step
      estimate of the hole (guidance 1, from pure noise: its mean guess given the prompt). A sampled fill is one
      plausible picture, and in a hole a few pixels from known ones it shows as speckle where the mean
      continues the wall; the mean of several mean estimates beats each of them on the val split;
    - **large holes** (orbit side bands of 30-85%, frames): hole pieces no wider than ``small_hole_px`` pixels
      (cracks and slivers between mesh pieces) are filled by Telea, which is as good there and costs no
      diffusion steps; the wider pieces are then painted by the model in one sampled pass (its guidance and
      layout start), with the Telea-filled pixels as known.
    """

    # inpaint() also takes guidance_scale (None = the pipeline's saved default), layout_strength (None = the saved
    # default; 1 = start from pure noise) and layout_transform (the view's tilt from level, for the layout start)
    def __init__(self, pipe, name: str = "embedded", small_hole_px: int = 4,
                 expected_fill_below: float = EXPECTED_FILL_BELOW,
                 expected_fill_model_weight: float = EXPECTED_FILL_MODEL_WEIGHT):
        self.pipe, self.name, self.small_hole_px = pipe, name, int(small_hole_px)
        self.capabilities = Capabilities(guidance=True, layout_strength=True, layout_transform=True,
                                         full_resolution=getattr(pipe, "is_latent", False))
        self.expected_fill_below = unit_interval(expected_fill_below, "expected_fill_below")
        self.expected_fill_model_weight = unit_interval(expected_fill_model_weight, "expected_fill_model_weight")
        self._embeddings: dict[str, "torch.Tensor"] = {}

    @classmethod
    def from_path(cls, path: str | Path, device: str = "cpu", name: str | None = None) -> "EmbeddedTextInpaint":
        from text3d.models.inpaint import TextInpaintPipeline

        return cls(load_pipeline(TextInpaintPipeline, path, device), name or str(path))

    def _embed(self, prompt: str) -> torch.Tensor:
        if prompt not in self._embeddings:  # a run asks for the same few prompts again and again
            self._embeddings[prompt] = self.pipe.encode_prompt(prompt)
        return self._embeddings[prompt]

    def inpaint(self, image: np.ndarray, mask: np.ndarray, *, prompt: str, steps: int,
                generator: torch.Generator, guidance_scale: float | None = None,
                layout_strength: float | None = None, layout_transform: np.ndarray | None = None) -> np.ndarray:
        """image (H, W, 3) float32 [0, 1]; mask (H, W) bool True = fill; prompt: what the view shows ("" for
        none) -> (H, W, 3), equal outside the mask. ``guidance_scale``, ``layout_strength``: None = the
        pipeline's saved defaults; ``layout_transform``: (3, 3) homography from a level camera's picture to
        this image, None = level (``TextInpaintPipeline``)."""
        image = np.clip(check_image(image), 0, 1)
        mask = check_mask(mask, image.shape[:2])
        if not isinstance(prompt, str):
            raise ValueError(f"the inpainting prompt must be a string, got {type(prompt).__name__}")
        if not mask.any():
            return image.copy()
        if mask.mean() < self.expected_fill_below:
            return self.expected_fill(image, mask, prompt.strip(), generator)
        thin = thin_holes(mask, self.small_hole_px)
        if thin.any():  # cracks and slivers: Telea, then known to the model
            image = classical_fill(image, thin)
        wide = mask & ~thin
        if not wide.any():
            return image
        return self.pipe(image, wide, prompt.strip(), num_inference_steps=int(steps), guidance_scale=guidance_scale,
                         generator=generator, text_embedding=self._embed(prompt.strip()),
                         layout_strength=layout_strength, layout_transform=layout_transform)

    def expected_fill(self, image: np.ndarray, mask: np.ndarray, prompt: str,
                      generator: torch.Generator) -> np.ndarray:
        """(H, W, 3) float32: the hole ``mask`` of ``image`` filled by the mean of the ``EXPECTED_FILL_CLASSICAL``
        fills, with ``expected_fill_model_weight`` of it the model's one-step, unguided estimate of the hole
        given ``prompt`` (no model call at weight 0); equal outside."""
        w = self.expected_fill_model_weight
        fill = np.mean([classical_fill(image, mask, method, radius) for method, radius in EXPECTED_FILL_CLASSICAL],
                       axis=0)
        if w > 0:
            guess = self.pipe(image, mask, prompt, num_inference_steps=1, guidance_scale=1.0, generator=generator,
                              text_embedding=self._embed(prompt), layout_strength=1.0, layout_transform=None)
            fill = (1 - w) * fill + w * guess
        return np.where(mask[..., None], fill, image).astype(np.float32)
