"""The embedded image models of text3d (text-to-image, text-conditioned inpainting, super-resolution).

They import ``depthgen`` (its trainer, checkpoints, masks and data engine) and never the app: arrows run
app -> ``text3d.models`` -> ``depthgen``.
"""
