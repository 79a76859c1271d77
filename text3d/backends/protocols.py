"""The three small interfaces the text-to-3D run talks to; each backend implements one.

All images are ``(H, W, 3) float32`` in [0, 1]; masks are ``(H, W) bool``; depth is ``(H, W) float32``
z-depth in metres. Every random draw goes through the ``torch.Generator`` passed in.

What a backend takes beyond its protocol's keywords is declared once, as a ``capabilities`` attribute
(``Capabilities``); the run reads it through ``capabilities_of`` and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch


@dataclass(frozen=True)
class Capabilities:
    """The optional keywords a backend takes (all off by default).

    guidance: ``inpaint(guidance_scale=...)``, classifier-free guidance of the prompt (None = its default).
    layout_strength: ``generate`` / ``inpaint(layout_strength=...)``, where sampling starts (1 = pure noise).
    layout_transform: ``inpaint(layout_transform=...)``, the (3, 3) pixel map from a level camera to the view.
    fov: ``predict`` / ``complete(fov_deg=...)``, the horizontal field of view of the image in degrees.
    camera_aware: the depth model's output depends on ``fov_deg`` (a camera-aware DepthGen model).
    full_resolution: the image model paints the view's pixels itself (a latent model, whose autoencoder decodes
    them): the super-resolution cascade (``text3d.run.upscale``) asks it for the view size and leaves its paint
    alone, and only the depth goes through the base size.
    """

    guidance: bool = False
    layout_strength: bool = False
    layout_transform: bool = False
    fov: bool = False
    camera_aware: bool = False
    full_resolution: bool = False


NO_CAPABILITIES = Capabilities()


def capabilities_of(backend: Any) -> Capabilities:
    """The ``Capabilities`` a backend declares (none for a backend that declares nothing, e.g. a stand-in)."""
    return getattr(backend, "capabilities", NO_CAPABILITIES)


@dataclass
class DepthResult:
    """Aggregated depth and the spread over samples.

    depth: (H, W) float32 metres; uncertainty: (H, W) float32 metres (0 where known/fixed);
    samples: (k, H, W) float32 metres or None.
    """

    depth: np.ndarray
    uncertainty: np.ndarray
    samples: np.ndarray | None = None


@dataclass
class ImageResult:
    """A painted image: (H, W, 3) float32 [0, 1], and what the backend reports of how it painted it (for the
    run manifest's ``first_view``; None when it has nothing to say)."""

    image: np.ndarray
    info: dict | None = None


@runtime_checkable
class TextToImageBackend(Protocol):
    """Paints the first view from a prompt."""

    name: str

    def generate(self, prompt: str, *, height: int, width: int, steps: int,
                 generator: torch.Generator) -> ImageResult:
        """Return the (height, width, 3) float32 image in [0, 1] with its ``info``."""
        ...


@runtime_checkable
class InpaintBackend(Protocol):
    """Fills the holes of a rendered view; pixels outside ``mask`` are returned unchanged."""

    name: str

    def inpaint(self, image: np.ndarray, mask: np.ndarray, *, prompt: str, steps: int,
                generator: torch.Generator) -> np.ndarray:
        """image (H, W, 3) float32 [0, 1]; mask (H, W) bool, True = fill; prompt: what the view shows.
        Returns (H, W, 3) float32. Optional keywords: see ``Capabilities``."""
        ...


@runtime_checkable
class DepthBackend(Protocol):
    """Monocular depth, and depth completion that keeps known pixels."""

    name: str

    def predict(self, image: np.ndarray, *, steps: int, samples: int,
                generator: torch.Generator) -> DepthResult:
        """Depth of an (H, W, 3) float32 image."""
        ...

    def complete(self, image: np.ndarray, known_depth: np.ndarray, known_mask: np.ndarray, *,
                 steps: int, samples: int, generator: torch.Generator) -> DepthResult:
        """Depth whose pixels under ``known_mask`` equal ``known_depth`` exactly."""
        ...
