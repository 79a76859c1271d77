"""DepthGen: diffusion models for monocular depth estimation and depth completion.

Imports are lazy so that ``import depthgen`` stays cheap and loads no weights.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DepthGenPipeline", "DepthGenOutput", "PalettePipeline"]


def __getattr__(name: str) -> Any:
    if name in ("DepthGenPipeline", "DepthGenOutput"):
        from depthgen.models import depth_pipeline

        return getattr(depth_pipeline, name)
    if name == "PalettePipeline":
        from depthgen.models.palette_pipeline import PalettePipeline

        return PalettePipeline
    raise AttributeError(f"module 'depthgen' has no attribute {name!r}")
