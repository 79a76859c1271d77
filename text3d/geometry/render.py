"""Render a coloured mesh with Open3D ray casting: colour, z-depth and a hit mask per pixel.

One ray per pixel centre (Open3D's pinhole convention); the ray direction has camera-frame z = 1, so the
hit distance Open3D reports is the z-depth. Colour is the barycentric blend of the hit triangle's vertex
colours (Open3D/Embree: point = (1 - u - v) p0 + u p1 + v p2). It runs on the CPU also in a CUDA run: Open3D's
``RaycastingScene`` has CPU and SYCL devices only, and TSDF fusion is the part that moves to the GPU
(``text3d.geometry.fuse.fusion_device``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from text3d.geometry.mesh import Mesh
from text3d.geometry.projection import camera_rays


@dataclass
class RenderResult:
    """image (H, W, 3) float32 [0, 1] (background where no hit); depth (H, W) float32 metres (0 where no hit);
    hit (H, W) bool; face (H, W) int64 index of the face the ray hit (-1 where none, also on filled pinholes)."""

    image: np.ndarray
    depth: np.ndarray
    hit: np.ndarray
    face: np.ndarray

    @property
    def holes(self) -> np.ndarray:
        """(H, W) bool pixels the mesh does not cover."""
        return ~self.hit


class Raycaster:
    """Open3D ``RaycastingScene`` over one mesh; build once, render many poses."""

    def __init__(self, mesh: Mesh):
        import open3d as o3d

        self.mesh = mesh
        self._colors = np.ascontiguousarray(mesh.colors, dtype=np.float32)
        self._scene = o3d.t.geometry.RaycastingScene()
        if mesh.n_faces > 0:
            self._scene.add_triangles(
                o3d.core.Tensor(mesh.vertices.astype(np.float32)),
                o3d.core.Tensor(mesh.faces.astype(np.uint32)),
            )

    def render(self, K: np.ndarray, cam_to_world: np.ndarray, height: int, width: int,
               background: tuple[float, float, float] = (0.0, 0.0, 0.0), fill_pinholes: bool = True) -> RenderResult:
        """Render at (height, width) pixels with intrinsics ``K`` (3, 3) and pose ``cam_to_world`` (4, 4).

        fill_pinholes: a missed pixel whose four neighbours all hit takes their median depth and mean colour.
        Embree (single precision) lets a few rays slip through exactly at shared vertices and edges; these
        pinholes are not holes in the surface and would otherwise be inpainted as new geometry.
        """
        image = np.empty((height, width, 3), dtype=np.float32)
        image[:] = np.asarray(background, dtype=np.float32)
        if self.mesh.n_faces == 0:
            return RenderResult(image, np.zeros((height, width), np.float32),
                                np.zeros((height, width), bool), np.full((height, width), -1, np.int64))
        import open3d as o3d

        origins, dirs = camera_rays(K, cam_to_world, height, width)
        rays = np.concatenate([origins, dirs], axis=-1).astype(np.float32)
        out = self._scene.cast_rays(o3d.core.Tensor(rays))
        t = out["t_hit"].numpy()
        hit = np.isfinite(t)
        face = np.where(hit, out["primitive_ids"].numpy().astype(np.int64), -1)
        idx = np.flatnonzero(hit)
        uvw = out["primitive_uvs"].numpy().reshape(-1, 2)[idx]               # (n, 2) barycentric (u, v)
        tri = self.mesh.faces[face.ravel()[idx]]                              # (n, 3) vertex indices
        cols = self._colors
        blend = cols[tri[:, 0]] * (1.0 - uvw[:, :1] - uvw[:, 1:]) + cols[tri[:, 1]] * uvw[:, :1] \
            + cols[tri[:, 2]] * uvw[:, 1:]
        image.reshape(-1, 3)[idx] = blend
        depth = np.where(hit, t, 0.0).astype(np.float32)
        if fill_pinholes:
            _fill_pinholes(image, depth, hit)
        return RenderResult(np.clip(image, 0.0, 1.0), depth, hit, face)


def _fill_pinholes(image: np.ndarray, depth: np.ndarray, hit: np.ndarray) -> None:
    """In place: interior missed pixels with all four neighbours hit get their median depth, mean colour."""
    h, w = hit.shape
    if h < 3 or w < 3:
        return
    inner = ~hit[1:-1, 1:-1] & hit[:-2, 1:-1] & hit[2:, 1:-1] & hit[1:-1, :-2] & hit[1:-1, 2:]
    rows, cols = np.nonzero(inner)
    if rows.size == 0:
        return
    rows, cols = rows + 1, cols + 1
    nb = [(rows - 1, cols), (rows + 1, cols), (rows, cols - 1), (rows, cols + 1)]
    depth[rows, cols] = np.median(np.stack([depth[r, c] for r, c in nb]), axis=0)
    image[rows, cols] = np.mean(np.stack([image[r, c] for r, c in nb]), axis=0)
    hit[rows, cols] = True


def render_mesh(mesh: Mesh, K: np.ndarray, cam_to_world: np.ndarray, height: int, width: int,
                background: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> RenderResult:
    """One-off render (builds the ray-casting scene each call; use ``Raycaster`` for many poses)."""
    return Raycaster(mesh).render(K, cam_to_world, height, width, background)
