"""Pure functions on arrays: cameras (K, poses), projection and pixel grids, meshes, ray casting, masks, lifting
depth to triangles with the free-space test, fusion and clean-up of meshes, and depth upsampling.

Conventions: OpenCV camera frame (x right, y down, z forward), metres, z-depth, ``K`` (3, 3) float64 pixels,
``cam_to_world`` (4, 4) float64; sizes are (H, W). Nothing here loads a model or writes a file.
"""
