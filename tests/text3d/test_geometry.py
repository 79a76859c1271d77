"""Pure geometry: projection round trips and depth-map triangulation."""

from __future__ import annotations

import numpy as np
import pytest

from text3d.geometry.cameras import intrinsics_from_fov, look_at
from text3d.geometry.projection import depth_to_mesh, grid_faces, pixel_centers, pixel_index, project, unproject


def _pose():
    return look_at(np.array([0.4, -0.3, -1.0]), np.array([0.0, 0.1, 2.0]))


def test_unproject_project_round_trip_is_exact():
    rng = np.random.default_rng(0)
    h, w = 12, 16
    K = intrinsics_from_fov(70.0, w, h)
    depth = rng.uniform(0.5, 9.0, (h, w))
    pose = _pose()
    pts = unproject(depth, K, pose).reshape(-1, 3)
    uv, z = project(pts, K, pose)
    assert np.allclose(uv, pixel_centers(h, w).reshape(-1, 2), atol=1e-9)
    assert np.allclose(z, depth.ravel(), atol=1e-12)
    row, col, inside = pixel_index(uv, h, w)
    assert inside.all() and np.array_equal(row * w + col, np.arange(h * w))


def _plane_depth(K, h, w, normal, offset):
    """z-depth of the plane n . X = offset (camera frame) at every pixel centre."""
    uv = pixel_centers(h, w)
    rays = np.concatenate([uv, np.ones((h, w, 1))], -1) @ np.linalg.inv(K).T     # z = 1
    return offset / (rays @ normal)


def test_a_plane_lifts_to_a_planar_mesh_facing_the_camera():
    h, w = 10, 12
    K = intrinsics_from_fov(60.0, w, h)
    normal = np.array([0.2, -0.3, 1.0]) / np.linalg.norm([0.2, -0.3, 1.0])
    depth = _plane_depth(K, h, w, normal, 2.5)
    image = np.random.default_rng(1).uniform(size=(h, w, 3)).astype(np.float32)
    mesh, used = depth_to_mesh(depth, image, K, np.eye(4))
    assert mesh.n_faces == 2 * (h - 1) * (w - 1) and used.all()
    assert np.allclose(mesh.vertices @ normal, 2.5, atol=1e-9)
    assert np.allclose(mesh.colors, image.reshape(-1, 3))
    tri = mesh.vertices[mesh.faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert np.all(np.einsum("ij,ij->i", n, tri.mean(1)) < 0)      # normals point back at the camera


def test_triangles_across_a_depth_step_are_dropped():
    h, w = 8, 8
    K = intrinsics_from_fov(60.0, w, h)
    depth = np.full((h, w), 2.0)
    depth[:, 4:] = 6.0                      # a 4 m step between columns 3 and 4
    mesh, _ = depth_to_mesh(depth, np.zeros((h, w, 3)), K, np.eye(4), max_grazing_deg=80.0)
    assert mesh.n_faces == 2 * (h - 1) * (w - 2)   # the column of quads over the step is gone
    z = mesh.vertices[mesh.faces][..., 2]
    assert np.all(z.max(1) - z.min(1) < 1e-9)


def test_masks_choose_vertices_and_new_faces():
    h, w = 6, 6
    K = intrinsics_from_fov(60.0, w, h)
    depth = np.full((h, w), 3.0)
    depth[0, 0] = 0.0                       # invalid pixel: no vertex
    seed = np.zeros((h, w), bool)
    seed[2:4, 2:4] = True
    full, _ = depth_to_mesh(depth, np.zeros((h, w, 3)), K, np.eye(4))
    assert full.n_faces == 2 * 25 - 1       # the corner quad loses the triangle with the invalid pixel
    part, used = depth_to_mesh(depth, np.zeros((h, w, 3)), K, np.eye(4), face_seed_mask=seed)
    # the 3x3 quads around the 2x2 seed block, less the two corner triangles that miss it (the diagonal
    # runs top-right to bottom-left), whose outer corners (1, 1) and (4, 4) are then no vertex
    assert part.n_faces == 2 * 9 - 2
    assert used.sum() == 16 - 2 and not used[1, 1] and not used[4, 4] and used[1:5, 1:5].sum() == 14


def test_grid_faces_count():
    assert grid_faces(3, 4).shape == (12, 3)
    with pytest.raises(ValueError):
        from text3d.geometry.mesh import Mesh

        Mesh(np.zeros((3, 3)), np.zeros((1, 3)), np.zeros((2, 3)))


def test_strided_mesh_uses_every_other_pixel_and_reaches_the_border():
    h, w = 9, 10
    K = intrinsics_from_fov(60.0, w, h)
    mesh, used = depth_to_mesh(np.full((h, w), 2.0), np.zeros((h, w, 3)), K, np.eye(4), stride=2)
    # rows 0, 2, 4, 6, 8 and columns 0, 2, 4, 6, 8, 9 (the last column is always kept)
    assert mesh.n_vertices == 5 * 6 and mesh.n_faces == 2 * 4 * 5
    assert used[8, 9] and used[0, 0] and not used[1, 1]
    assert np.allclose(mesh.vertices[:, 2], 2.0)
