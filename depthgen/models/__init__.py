"""The networks and the inference side: ``config`` (task ids, UNet, depth and diffusion settings), ``unet``
(the UNet and its size presets), ``diffusion`` (targets, losses, step-unrolled denoising), ``sampling`` (the
scheduler loop, known-pixel completion), ``aggregate``, ``depth_param``, ``camera`` (field of view, canonical
camera), and the pipelines ``depth_pipeline`` (``DepthGenPipeline``) and ``palette_pipeline``
(``PalettePipeline``) over ``pipeline_common``."""
