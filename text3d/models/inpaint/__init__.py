"""Text-conditioned inpainting / outpainting: the embedded model that paints what a new camera pose sees
for the first time, conditioned on the known pixels, the hole mask and the view's prompt."""

from text3d.models.inpaint.pipeline import TextInpaintPipeline

__all__ = ["TextInpaintPipeline"]
