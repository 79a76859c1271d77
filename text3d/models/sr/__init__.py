"""Super-resolution: the embedded model that takes the 64-px views of text-to-3D to 256 px (a cascade, as
Imagen's), trained on procedural renders with conditioning augmentation."""

from text3d.models.sr.pipeline import SuperResolutionPipeline

__all__ = ["SuperResolutionPipeline"]
