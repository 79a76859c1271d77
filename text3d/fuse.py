"""Mesh clean-up and optional TSDF fusion of all views (Open3D).

Each view adds its own mesh piece; pieces meet at seams but share no vertices, so "tiny floating
component" means a small connected piece that is also far from the rest of the mesh, not merely small.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from text3d.mesh import Mesh


def _to_o3d(mesh: Mesh):
    import open3d as o3d

    m = o3d.geometry.TriangleMesh()
    m.vertices = o3d.utility.Vector3dVector(mesh.vertices)
    m.triangles = o3d.utility.Vector3iVector(mesh.faces.astype(np.int32))
    m.vertex_colors = o3d.utility.Vector3dVector(mesh.colors.astype(np.float64))
    return m


def _from_o3d(m) -> Mesh:
    colors = np.asarray(m.vertex_colors)
    if len(colors) != len(m.vertices):
        colors = np.full((len(m.vertices), 3), 0.5)
    return Mesh(np.asarray(m.vertices), np.asarray(m.triangles), colors)


def median_edge_length(mesh: Mesh) -> float:
    """Median triangle edge length in metres (0 for an empty mesh)."""
    if mesh.n_faces == 0:
        return 0.0
    tri = mesh.vertices[mesh.faces]
    edges = np.linalg.norm(tri - np.roll(tri, 1, axis=1), axis=2)
    return float(np.median(edges))


def clean_mesh(mesh: Mesh, min_component_fraction: float = 0.002, near_edges: float = 3.0) -> tuple[Mesh, dict]:
    """Remove duplicate and degenerate faces, unreferenced vertices and tiny floating components.

    A connected component is removed when it has fewer than ``min_component_fraction`` of all faces and
    none of its vertices lies within ``near_edges`` median edge lengths of the rest of the mesh.
    Returns the cleaned mesh and counts of what was removed.
    """
    stats = {"faces_in": mesh.n_faces, "floating_components": 0, "floating_faces": 0}
    if mesh.n_faces == 0:
        stats["faces_out"] = 0
        return mesh, stats
    m = _to_o3d(mesh)
    m.remove_duplicated_vertices()
    m.remove_duplicated_triangles()
    m.remove_degenerate_triangles()
    m.remove_unreferenced_vertices()
    cleaned = _from_o3d(m)
    if cleaned.n_faces and min_component_fraction > 0:
        cleaned = _drop_floating(cleaned, m, min_component_fraction, near_edges, stats)
    stats["faces_out"] = cleaned.n_faces
    return cleaned, stats


def _drop_floating(mesh: Mesh, o3d_mesh, fraction: float, near_edges: float, stats: dict) -> Mesh:
    from scipy.spatial import cKDTree

    labels, counts, _ = o3d_mesh.cluster_connected_triangles()
    labels = np.asarray(labels)
    counts = np.asarray(counts)
    small = np.flatnonzero(counts < fraction * mesh.n_faces)
    if small.size == 0:
        return mesh
    radius = near_edges * median_edge_length(mesh)
    keep_face = np.ones(mesh.n_faces, dtype=bool)
    small_face = np.isin(labels, small)
    big_vertices = np.unique(mesh.faces[~small_face])
    tree = cKDTree(mesh.vertices[big_vertices]) if big_vertices.size else None
    for comp in small:
        faces = np.flatnonzero(labels == comp)
        verts = np.unique(mesh.faces[faces])
        if tree is not None:
            dist, _ = tree.query(mesh.vertices[verts], k=1, distance_upper_bound=radius)
            if np.isfinite(dist).any():
                continue                                # touches the rest of the scene: keep
        keep_face[faces] = False
        stats["floating_components"] += 1
        stats["floating_faces"] += int(faces.size)
    return compact(Mesh(mesh.vertices, mesh.faces[keep_face], mesh.colors))


def compact(mesh: Mesh) -> Mesh:
    """Drop vertices no face references (indices remapped)."""
    used = np.zeros(mesh.n_vertices, dtype=bool)
    used[mesh.faces.ravel()] = True
    remap = np.cumsum(used) - 1
    return Mesh(mesh.vertices[used], remap[mesh.faces], mesh.colors[used])


def auto_voxel(median_depth: float, K: np.ndarray, pixels: float = 1.5) -> float:
    """TSDF voxel edge (metres): the footprint of ``pixels`` pixels at the median scene depth."""
    return float(max(median_depth, 1e-3) * pixels / float(K[0, 0]))


def tsdf_fuse(images: Sequence[np.ndarray], depths: Sequence[np.ndarray], K: np.ndarray,
              poses: Sequence[np.ndarray], voxel: float, trunc_voxels: float = 4.0) -> Mesh:
    """Fuse views into one mesh with Open3D's ScalableTSDFVolume (marching cubes of the fused TSDF).

    images: (H, W, 3) float32 [0, 1]; depths: (H, W) float32 metres (0 = unknown); K (3, 3) shared;
    poses: cam_to_world (4, 4); voxel: metres.
    """
    import open3d as o3d

    if voxel <= 0:
        raise ValueError(f"TSDF voxel size must be positive, got {voxel}")
    h, w = depths[0].shape
    # Open3D's legacy integration puts pixel centres at integer coordinates; ours are at +0.5.
    intr = o3d.camera.PinholeCameraIntrinsic(w, h, K[0, 0], K[1, 1], K[0, 2] - 0.5, K[1, 2] - 0.5)
    volume = o3d.pipelines.integration.ScalableTSDFVolume(
        voxel_length=voxel, sdf_trunc=trunc_voxels * voxel,
        color_type=o3d.pipelines.integration.TSDFVolumeColorType.RGB8)
    for image, depth, pose in zip(images, depths, poses):
        d = np.where(np.isfinite(depth) & (depth > 0), depth, 0).astype(np.float32)
        if not (d > 0).any():
            continue
        rgbd = o3d.geometry.RGBDImage.create_from_color_and_depth(
            o3d.geometry.Image(np.ascontiguousarray((np.clip(image, 0, 1) * 255).astype(np.uint8))),
            o3d.geometry.Image(np.ascontiguousarray(d)),
            depth_scale=1.0, depth_trunc=float(d.max()) * 1.01 + 1e-6, convert_rgb_to_intensity=False)
        volume.integrate(rgbd, intr, np.linalg.inv(np.asarray(pose, dtype=np.float64)))
    return _from_o3d(volume.extract_triangle_mesh())
