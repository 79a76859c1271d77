"""The three small interfaces the text-to-3D pipeline talks to; each backend implements one.

All images are ``(H, W, 3) float32`` in [0, 1]; masks are ``(H, W) bool``; depth is ``(H, W) float32``
z-depth in metres. Every random draw goes through the ``torch.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch


@dataclass
class DepthResult:
    """Aggregated depth and the spread over samples.

    depth: (H, W) float32 metres; uncertainty: (H, W) float32 metres (0 where known/fixed);
    samples: (k, H, W) float32 metres or None.
    """

    depth: np.ndarray
    uncertainty: np.ndarray
    samples: np.ndarray | None = None


@runtime_checkable
class TextToImageBackend(Protocol):
    """Paints the first view from a prompt."""

    name: str

    def generate(self, prompt: str, *, height: int, width: int, steps: int,
                 generator: torch.Generator) -> np.ndarray:
        """Return an (H, W, 3) float32 image in [0, 1]."""
        ...


@runtime_checkable
class InpaintBackend(Protocol):
    """Fills the holes of a rendered view; pixels outside ``mask`` are returned unchanged."""

    name: str

    def inpaint(self, image: np.ndarray, mask: np.ndarray, *, prompt: str, steps: int,
                generator: torch.Generator) -> np.ndarray:
        """image (H, W, 3) float32 [0, 1]; mask (H, W) bool, True = fill; prompt: what the view shows.
        Returns (H, W, 3) float32. Backends whose ``takes_guidance`` is True also take an optional
        ``guidance_scale`` keyword (classifier-free guidance of the prompt; None = their default)."""
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
