"""Where and in what precision the models run: one rule for every backend.

On CUDA every model runs in float16 (Stable Diffusion, Marigold, the transformers depth models, and the embedded
DepthGen, text-to-image, inpainting and super-resolution pipelines); elsewhere in float32. Classifier-free guidance already runs the
conditional and unconditional predictions as one batch in every guided pipeline (diffusers' Stable Diffusion
pipelines, ``TextToImagePipeline``, ``TextInpaintPipeline``). Measured differences to float32:
docs/public_weights.md.
"""

from __future__ import annotations

from pathlib import Path

import torch


def model_dtype(device: str | torch.device) -> torch.dtype:
    """float16 on a CUDA device, float32 elsewhere."""
    return torch.float16 if torch.device(device).type == "cuda" else torch.float32


def load_pipeline(cls, path: str | Path, device: str | torch.device):
    """``cls.from_pretrained(path)`` (a diffusers pipeline class, a local folder) in ``model_dtype(device)`` on
    ``device``, progress bars off."""
    pipe = cls.from_pretrained(str(path), dtype=model_dtype(device)).to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe
