"""The embedded text-to-image model: a small text-conditioned diffusion UNet trained on procedural scenes.

Modules: ``text_encoder`` (frozen all-MiniLM-L6-v2 sentence embeddings, offline), ``config`` (recipe
dataclasses), ``model`` (diffusers ``UNet2DConditionModel`` presets), ``pipeline`` (``TextToImagePipeline``),
``data`` (image/caption datasets and the caption-embedding cache), ``checkpoint`` (save/resume),
``train`` (CLI), ``classifier`` (scene-type classifier used to evaluate generated images).
Imports are lazy so that ``import text3d.models.t2i`` loads no weights.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TextToImagePipeline"]


def __getattr__(name: str) -> Any:
    if name == "TextToImagePipeline":
        from text3d.models.t2i.pipeline import TextToImagePipeline

        return TextToImagePipeline
    raise AttributeError(f"module 'text3d.models.t2i' has no attribute {name!r}")
