"""Mesh clean-up and TSDF fusion."""

from __future__ import annotations

import numpy as np

from text3d.geometry.cameras import intrinsics_from_fov, make_pose, rotation_y
from text3d.geometry.fuse import auto_voxel, clean_mesh, tsdf_fuse
from text3d.geometry.mesh import Mesh, concat_meshes
from text3d.geometry.projection import depth_to_mesh


def _grid(h=12, w=12, z=3.0, shift=(0.0, 0.0, 0.0)):
    K = intrinsics_from_fov(60.0, w, h)
    mesh, _ = depth_to_mesh(np.full((h, w), z), np.full((h, w, 3), 0.5), K, make_pose(np.eye(3), np.array(shift)))
    return mesh


def test_clean_removes_duplicates_degenerates_and_far_tiny_pieces():
    wall = _grid()
    dup = Mesh(wall.vertices, np.concatenate([wall.faces, wall.faces[:5]]), wall.colors)
    degenerate = Mesh(np.array([[0, 0, 1], [0, 0, 1], [1, 0, 1.0]]), [[0, 1, 2]], np.zeros((3, 3)))
    far = Mesh(np.array([[50, 0, 50], [50.1, 0, 50], [50, 0.1, 50.0]]), [[0, 1, 2]], np.zeros((3, 3)))
    near = Mesh(wall.vertices[:3] + [0, 0, 0.001], [[0, 1, 2]], np.zeros((3, 3)))   # touches the wall
    mesh = concat_meshes([dup, degenerate, far, near])
    cleaned, stats = clean_mesh(mesh, min_component_fraction=0.05)
    assert cleaned.n_faces == wall.n_faces + 1           # wall + the touching piece
    assert stats["floating_components"] == 1 and stats["floating_faces"] == 1
    assert cleaned.vertices[:, 0].max() < 10              # the far piece is gone
    assert len(cleaned.colors) == cleaned.n_vertices


def test_tsdf_fusion_of_a_wall_seen_twice_is_a_wall():
    h = w = 32
    K = intrinsics_from_fov(60.0, w, h)
    poses = [np.eye(4), make_pose(rotation_y(10.0), np.array([0.2, 0.0, 0.0]))]
    depths = []
    for pose in poses:      # z-depth of the world plane z = 3 seen from each pose
        from text3d.geometry.projection import camera_rays

        o, d = camera_rays(K, pose, h, w)
        depths.append(((3.0 - o[..., 2]) / d[..., 2]).astype(np.float32))
    images = [np.full((h, w, 3), 0.7, np.float32)] * 2
    voxel = auto_voxel(3.0, K)
    mesh = tsdf_fuse(images, depths, K, poses, voxel)
    assert mesh.n_faces > 100
    assert np.abs(mesh.vertices[:, 2] - 3.0).max() < voxel
    assert np.allclose(mesh.colors, 0.7, atol=0.01)
