"""text3d: text-to-3D scenes from a text-to-image model, image inpainting and DepthGen."""
