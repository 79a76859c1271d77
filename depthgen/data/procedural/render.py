"""Rendering a Scene from a pinhole camera with Open3D ray casting.

Rays are cast with directions whose camera-frame z component is 1, so Open3D's hit distance (in units of the
direction length) is exactly the z-depth. One cast gives depth, triangle ids and normals; one batched
occlusion cast gives the shadows of every light.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from depthgen.data.procedural.scene import Scene
from depthgen.data.procedural.shading import radiance, sky_radiance, surface_albedo, tone_map


def intrinsics(size: tuple[int, int], hfov_deg: float) -> np.ndarray:
    """K (3, 3) float64 for an image of size (H, W) with horizontal field of view ``hfov_deg``, square pixels,
    principal point at the image centre."""
    h, w = size
    f = (w / 2.0) / np.tan(np.radians(hfov_deg) / 2.0)
    return np.array([[f, 0.0, w / 2.0], [0.0, f, h / 2.0], [0.0, 0.0, 1.0]])


def camera_rays(K: np.ndarray, cam_to_world: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Ray origin (3,) and world directions (H, W, 3) float64 through pixel centres, scaled to camera z = 1."""
    h, w = size
    v, u = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    pix = np.stack([u, v, np.ones_like(u)], -1)
    d_cam = pix @ np.linalg.inv(K).T  # (H, W, 3), z = 1
    R, t = cam_to_world[:3, :3], cam_to_world[:3, 3]
    return t.copy(), d_cam @ R.T


def cast(scene: Scene, origin: np.ndarray, dirs: np.ndarray, nthreads: int = 1) -> dict[str, np.ndarray]:
    """Cast rays (..., 3) from one origin: t_hit (...) (inf on miss, in direction-length units), tri (...)
    int64 (-1 on miss), normal (..., 3) float64 unit face normals."""
    return cast_from(scene, np.broadcast_to(origin, dirs.shape), dirs, nthreads)


def cast_from(scene: Scene, origins: np.ndarray, dirs: np.ndarray, nthreads: int = 1) -> dict[str, np.ndarray]:
    """Like ``cast`` with one origin per ray: origins, dirs (..., 3)."""
    import open3d as o3d

    shape = dirs.shape[:-1]
    rays = np.concatenate([origins, dirs], -1).reshape(-1, 6).astype(np.float32)
    ans = scene.raycaster().cast_rays(o3d.core.Tensor(rays), nthreads=nthreads)
    t = ans["t_hit"].numpy().astype(np.float64)
    hit = np.isfinite(t)
    tri = np.where(hit, ans["primitive_ids"].numpy().astype(np.int64), -1)
    nrm = ans["primitive_normals"].numpy().astype(np.float64)
    return {"t_hit": t.reshape(shape), "tri": tri.reshape(shape), "normal": nrm.reshape(*shape, 3)}


def render_clean(scene: Scene, K: np.ndarray, cam_to_world: np.ndarray, size: tuple[int, int] = (64, 64),
                shadows: bool = True, nthreads: int = 1) -> dict[str, Any]:
    """Render ``scene`` from a pinhole camera (clean ground truth; add sensors with ``sensors.simulate``).

    Args:
        K: (3, 3) intrinsics in pixels for ``size``; cam_to_world: (4, 4) OpenCV pose (x right, y down, z fwd).
        size: (H, W).
    Returns a dict: rgb (H, W, 3) uint8; depth (H, W) float32 z-depth m (0 = no surface); valid (H, W) bool;
    normal (H, W, 3) float32 unit normals in the camera frame facing the camera (0 on sky); object_id,
    material_id (H, W) int32 (-1 on sky); albedo (H, W, 3) float32 linear; linear (H, W, 3) float32 radiance
    before tone mapping (sky included; ``photo.develop`` turns it into a photograph); K (3, 3) float64;
    cam_to_world (4, 4) float64; scene_type str; outdoor bool; seed int.
    """
    K = np.asarray(K, np.float64)
    cam_to_world = np.asarray(cam_to_world, np.float64)
    if K.shape != (3, 3) or cam_to_world.shape != (4, 4):
        raise ValueError(f"K must be (3, 3) and cam_to_world (4, 4), got {K.shape} and {cam_to_world.shape}")
    h, w = int(size[0]), int(size[1])
    if h < 1 or w < 1:
        raise ValueError(f"size must be (H, W) with positive entries, got {size}")
    origin, dirs = camera_rays(K, cam_to_world, (h, w))
    hit = cast(scene, origin, dirs, nthreads)
    t, tri = hit["t_hit"].ravel(), hit["tri"].ravel()
    valid = tri >= 0
    d = dirs.reshape(-1, 3)
    n = hit["normal"].reshape(-1, 3).astype(np.float32)
    n[np.einsum("ij,ij->i", n, d) > 0] *= -1  # face the camera
    rgb = np.empty((h * w, 3), np.float32)
    alb = np.zeros((h * w, 3), np.float32)
    lin = np.empty((h * w, 3), np.float32)
    if valid.any():
        p = (origin[None] + d[valid] * t[valid, None]).astype(np.float32)
        ti = tri[valid]
        alb[valid] = surface_albedo(scene, p, n[valid], ti)
        rad = radiance(scene, p, n[valid], ti, shadows=shadows, albedo=alb[valid], nthreads=nthreads, eye=origin)
        rgb[valid] = tone_map(rad)
        lin[valid] = rad
    if (~valid).any():
        du = d[~valid] / np.linalg.norm(d[~valid], axis=1, keepdims=True)
        sky = sky_radiance(scene, du)
        rgb[~valid] = tone_map(sky)
        lin[~valid] = sky
    depth = np.where(valid, t, 0.0).astype(np.float32)
    R = cam_to_world[:3, :3]
    n_cam = n @ R.astype(np.float32)  # world -> camera: R^T n
    n_cam[~valid] = 0.0
    obj = np.where(valid, scene.tri_object[np.maximum(tri, 0)], -1).astype(np.int32)
    mat = np.where(valid, scene.tri_material[np.maximum(tri, 0)], -1).astype(np.int32)
    return {
        "rgb": np.round(rgb.reshape(h, w, 3) * 255.0).astype(np.uint8),
        "depth": depth.reshape(h, w), "valid": valid.reshape(h, w), "normal": n_cam.reshape(h, w, 3),
        "object_id": obj.reshape(h, w), "material_id": mat.reshape(h, w), "albedo": alb.reshape(h, w, 3),
        "linear": lin.reshape(h, w, 3),
        "K": K.copy(), "cam_to_world": cam_to_world.copy(), "scene_type": scene.scene_type,
        "outdoor": bool(scene.outdoor), "seed": int(scene.seed),
    }
