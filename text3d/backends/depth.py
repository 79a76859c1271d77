"""``DepthGenBackend``: monocular depth and depth completion with ``depthgen.DepthGenPipeline``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from text3d.backends.embedded import check_image
from text3d.backends.protocols import DepthResult


class DepthGenBackend:
    """``DepthBackend`` over a DepthGen pipeline folder (median over samples; std as uncertainty)."""

    def __init__(self, pipe, name: str = "embedded", scheduler: str = "ddim"):
        self.pipe, self.name, self.scheduler = pipe, name, scheduler

    @classmethod
    def from_path(cls, path: str | Path, device: str = "cpu", name: str | None = None) -> "DepthGenBackend":
        from depthgen.pipeline import DepthGenPipeline

        pipe = DepthGenPipeline.from_pretrained(str(path)).to(device)
        pipe.set_progress_bar_config(disable=True)
        return cls(pipe, name or str(path))

    @staticmethod
    def _result(out) -> DepthResult:
        return DepthResult(depth=np.asarray(out.depth, np.float32), uncertainty=np.asarray(out.uncertainty, np.float32),
                           samples=np.asarray(out.samples, np.float32))

    def predict(self, image: np.ndarray, *, steps: int, samples: int, generator: torch.Generator) -> DepthResult:
        """Depth (H, W) float32 metres of an (H, W, 3) float32 image."""
        image = check_image(image)
        out = self.pipe(image, num_samples=int(samples), num_inference_steps=int(steps), generator=generator,
                        scheduler=self.scheduler)
        return self._result(out)

    def complete(self, image: np.ndarray, known_depth: np.ndarray, known_mask: np.ndarray, *, steps: int,
                 samples: int, generator: torch.Generator) -> DepthResult:
        """Depth equal to ``known_depth`` on ``known_mask`` (pixels with non-positive or non-finite depth are
        treated as unknown). An empty mask is plain prediction; a full mask returns the known depth."""
        image = check_image(image)
        hw = image.shape[:2]
        known_depth = np.asarray(known_depth, np.float32)
        if known_depth.shape != hw or np.shape(known_mask) != hw:
            raise ValueError(f"known_depth {known_depth.shape} and known_mask {np.shape(known_mask)} must match the image size {hw}")
        mask = np.asarray(known_mask, bool) & np.isfinite(known_depth) & (known_depth > 0)
        if not mask.any():
            return self.predict(image, steps=steps, samples=samples, generator=generator)
        if mask.all():
            k = max(1, int(samples))
            return DepthResult(known_depth.copy(), np.zeros(hw, np.float32), np.repeat(known_depth[None], k, 0))
        out = self.pipe.complete(image, known_depth, mask, num_samples=int(samples), num_inference_steps=int(steps),
                                 generator=generator, scheduler=self.scheduler)
        res = self._result(out)
        res.depth = np.where(mask, known_depth, res.depth).astype(np.float32)
        res.uncertainty = np.where(mask, 0.0, res.uncertainty).astype(np.float32)
        return res
