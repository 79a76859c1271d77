"""Pure geometry on arrays: pixel rays, unprojection, projection and depth-map triangulation.

Conventions: OpenCV camera frame (x right, y down, z forward), metres, ``K`` (3, 3) float64,
``cam_to_world`` (4, 4) float64, depth = z-depth (not ray length). Pixel (row v, column u) has its centre
at image coordinates (u + 0.5, v + 0.5), matching Open3D's ``create_rays_pinhole``.
"""

from __future__ import annotations

import math

import numpy as np

from text3d.geometry.masks import dilate
from text3d.geometry.mesh import Mesh


def pixel_centers(height: int, width: int) -> np.ndarray:
    """(H, W, 2) float64 image coordinates (u, v) of pixel centres."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    return np.stack([u + 0.5, v + 0.5], axis=-1)


def camera_rays(K: np.ndarray, cam_to_world: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel rays in the world frame, scaled so that the ray parameter t equals z-depth.

    Returns origins (H, W, 3) float64 and directions (H, W, 3) float64 (camera-frame z component 1,
    so ``origin + depth * direction`` is the surface point).
    """
    uv = pixel_centers(height, width)
    K_inv = np.linalg.inv(np.asarray(K, dtype=np.float64))
    pix = np.concatenate([uv, np.ones((height, width, 1))], axis=-1)       # (H, W, 3)
    dirs_cam = pix @ K_inv.T                                               # z component is 1
    pose = np.asarray(cam_to_world, dtype=np.float64)
    dirs = dirs_cam @ pose[:3, :3].T
    origins = np.broadcast_to(pose[:3, 3], dirs.shape).copy()
    return origins, dirs


def unproject(depth: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray) -> np.ndarray:
    """World points (H, W, 3) float64 metres of a (H, W) z-depth map (invalid pixels give the camera centre)."""
    h, w = depth.shape
    origins, dirs = camera_rays(K, cam_to_world, h, w)
    return origins + dirs * np.asarray(depth, dtype=np.float64)[..., None]


def project(points: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image coordinates (N, 2) float64 (u, v; pixel centres at +0.5) and z-depth (N,) float64 of world points (N, 3)."""
    pose = np.asarray(cam_to_world, dtype=np.float64)
    cam = (np.asarray(points, dtype=np.float64) - pose[:3, 3]) @ pose[:3, :3]   # world -> camera
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        pix = cam @ np.asarray(K, dtype=np.float64).T
        uv = pix[:, :2] / z[:, None]
    return uv, z


def pixel_index(uv: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column (N,) int64 of the pixel containing each (u, v), and an (N,) bool inside-image flag."""
    with np.errstate(invalid="ignore"):
        col = np.floor(uv[:, 0])
        row = np.floor(uv[:, 1])
    inside = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (col < width) & (row >= 0) & (row < height)
    col = np.where(inside, col, 0).astype(np.int64)
    row = np.where(inside, row, 0).astype(np.int64)
    return row, col, inside


def grid_faces(height: int, width: int) -> np.ndarray:
    """(2 (H-1) (W-1), 3) int64 triangles over the pixel grid, indices ``row * W + col``.

    Each 2x2 block gives (top-left, bottom-left, top-right) and (top-right, bottom-left, bottom-right):
    counter-clockwise seen from the camera, so the normals face it.
    """
    idx = np.arange(height * width, dtype=np.int64).reshape(height, width)
    tl, tr = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel()
    bl, br = idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
    return np.concatenate([np.stack([tl, bl, tr], 1), np.stack([tr, bl, br], 1)])


def grazing_cosine(tri_points: np.ndarray, camera_center: np.ndarray) -> np.ndarray:
    """|cos| of the angle between each triangle's normal and its viewing ray; (M,) float64.

    tri_points: (M, 3, 3) world points. Near 0 for stretched triangles bridging a depth discontinuity.
    """
    e1 = tri_points[:, 1] - tri_points[:, 0]
    e2 = tri_points[:, 2] - tri_points[:, 0]
    normal = np.cross(e1, e2)
    ray = tri_points.mean(axis=1) - np.asarray(camera_center, dtype=np.float64)
    denom = np.linalg.norm(normal, axis=1) * np.linalg.norm(ray, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.abs(np.einsum("ij,ij->i", normal, ray)) / denom
    return np.nan_to_num(cos, nan=0.0)


def grid_indices(n: int, stride: int) -> np.ndarray:
    """Every ``stride``-th index of 0..n-1, always including the last one (so the mesh reaches the border)."""
    idx = np.arange(0, n, max(int(stride), 1))
    return idx if idx[-1] == n - 1 else np.append(idx, n - 1)


def depth_to_mesh(depth: np.ndarray, image: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray,
                  vertex_mask: np.ndarray | None = None, face_seed_mask: np.ndarray | None = None,
                  max_grazing_deg: float = 88.0, stride: int = 1) -> tuple[Mesh, np.ndarray]:
    """Triangulate a depth map into a coloured mesh, dropping triangles stretched over discontinuities.

    depth: (H, W) float z-depth metres (<= 0 or non-finite = invalid); image: (H, W, 3) float [0, 1];
    vertex_mask: (H, W) bool pixels allowed as vertices (default: all valid); face_seed_mask: (H, W) bool,
    if given a triangle is kept only when at least one of its corners lies in it (so a dilated hole mask
    can stitch new pixels to the known ring without re-meshing known surfaces); max_grazing_deg: triangles
    seen more obliquely than this (normal vs. viewing ray) are dropped; stride: use every ``stride``-th
    pixel as a vertex (plus the last row and column), for large views (colours box-filtered over the stride,
    a seed pixel counts for the grid corners within ``stride // 2`` of it).
    Returns the mesh (only referenced vertices) and (H, W) bool: pixels that became vertices of a kept face.
    """
    depth = np.asarray(depth, dtype=np.float64)
    h, w = depth.shape
    valid = np.isfinite(depth) & (depth > 0)
    if vertex_mask is not None:
        valid &= np.asarray(vertex_mask, dtype=bool)
    rows, cols = grid_indices(h, stride), grid_indices(w, stride)
    grid = np.ix_(rows, cols)
    gh, gw = len(rows), len(cols)
    points = unproject(np.where(valid, depth, 0.0), K, cam_to_world)[grid].reshape(-1, 3)
    colors = np.asarray(image, dtype=np.float32)
    seed = None if face_seed_mask is None else np.asarray(face_seed_mask, dtype=bool)
    if stride > 1:
        import cv2

        colors = cv2.blur(colors, (stride, stride))
        seed = None if seed is None else dilate(seed, stride // 2)
    faces = grid_faces(gh, gw)
    keep = valid[grid].ravel()[faces].all(axis=1)
    if seed is not None:
        keep &= seed[grid].ravel()[faces].any(axis=1)
    faces = faces[keep]
    cos = grazing_cosine(points[faces], np.asarray(cam_to_world)[:3, 3])
    faces = faces[cos > math.cos(math.radians(max_grazing_deg))]
    used = np.zeros(gh * gw, dtype=bool)
    used[faces.ravel()] = True
    remap = np.full(gh * gw, -1, dtype=np.int64)
    remap[used] = np.arange(int(used.sum()))
    mesh = Mesh(points[used], remap[faces], np.clip(colors[grid].reshape(-1, 3)[used], 0.0, 1.0))
    used_full = np.zeros((h, w), dtype=bool)
    used_full[grid] = used.reshape(gh, gw)
    return mesh, used_full
