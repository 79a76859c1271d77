"""text3d: text-to-3D scenes from a text-to-image model, image inpainting and DepthGen.

``text3d.generate(prompt, ...)`` returns a ``Text3DResult``; ``text3d.load_backends(...)`` builds the models
once for many runs. Imports are lazy: ``import text3d`` loads no model and no heavy package.
"""

from __future__ import annotations

from typing import Any

__all__ = ["generate", "Text3DResult", "load_backends", "Backends", "load_preset"]


def __getattr__(name: str) -> Any:
    if name == "generate":
        from text3d.pipeline import generate

        return generate
    if name == "Text3DResult":
        from text3d.result import Text3DResult

        return Text3DResult
    if name in ("load_backends", "Backends"):
        from text3d import loading

        return getattr(loading, name)
    if name == "load_preset":
        from text3d.config import load_preset

        return load_preset
    raise AttributeError(f"module 'text3d' has no attribute {name!r}")
