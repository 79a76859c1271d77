"""Write results: meshes (PLY, GLB), point cloud, PNGs, transforms.json.

Every file is written to a temporary name in the same folder, then renamed (``depthgen.common.io.atomic_path``), so
an interrupted run leaves no half-written file. Meshes and poses are written in the export world: y up, the
first view looking along -z (glTF / OpenGL convention), i.e. the generation frame rotated by
``cameras.CV_TO_GL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from depthgen.common.io import atomic_path, write_bytes
from text3d.geometry.cameras import CV_TO_GL, world_to_export
from text3d.geometry.mesh import Mesh


def to_uint8(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) float [0, 1] -> uint8 (rounded)."""
    return (np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_png(path: str | Path, array: np.ndarray) -> Path:
    """Atomically write an (H, W, 3) float [0, 1] or uint8 image, an (H, W) bool mask or an (H, W) uint16 PNG."""
    from PIL import Image

    a = np.asarray(array)
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype != np.uint8 and a.dtype != np.uint16:
        a = to_uint8(a)
    with atomic_path(path) as tmp:
        Image.fromarray(a).save(tmp, format="PNG")
    return Path(path)


def _trimesh(mesh: Mesh, gltf: bool = False):
    """A trimesh in the export world with RGBA vertex colours.

    gltf: carry the colours as COLOR_0 next to an explicit matte, double-sided material; without one,
    glTF's default material (fully metallic, single-sided) shows vertex colours dark in PBR viewers and
    hides walls seen from behind.
    """
    import trimesh

    export = mesh.transformed(CV_TO_GL)
    rgba = np.concatenate([to_uint8(export.colors), np.full((export.n_vertices, 1), 255, np.uint8)], axis=1)
    if not gltf:
        return trimesh.Trimesh(export.vertices, export.faces, vertex_colors=rgba, process=False)
    material = trimesh.visual.material.PBRMaterial(baseColorFactor=[255, 255, 255, 255], metallicFactor=0.0,
                                                   roughnessFactor=1.0, doubleSided=True)
    visual = trimesh.visual.TextureVisuals(material=material)
    visual.vertex_attributes["color"] = rgba
    return trimesh.Trimesh(export.vertices, export.faces, visual=visual, process=False)


def write_mesh_ply(path: str | Path, mesh: Mesh) -> Path:
    """Binary PLY with per-vertex RGBA colours (export world)."""
    return write_bytes(path, _trimesh(mesh).export(file_type="ply"))


def gltf_camera_entries(poses: Sequence[np.ndarray], K: np.ndarray, image_size: tuple[int, int],
                        names: Sequence[str] | None = None, znear: float = 0.01) -> tuple[list[dict], list[dict]]:
    """glTF ``cameras`` and ``nodes`` entries for pinhole views.

    poses: (4, 4) cam_to_world in the generation frame (OpenCV axes); K (3, 3) pixels at image_size (H, W).
    A glTF camera looks down its node's -z with +y up, i.e. OpenGL camera axes, so each node's matrix is
    ``world_to_export(pose)`` (column-major). yfov = 2 atan(H / 2 fy) radians; aspectRatio is the image's.
    znear metres; no zfar (an infinite projection). glTF has no principal point: K must be centred.
    """
    h, w = image_size
    K = np.asarray(K, dtype=np.float64)
    if abs(K[0, 2] - w / 2.0) > 0.5 or abs(K[1, 2] - h / 2.0) > 0.5:
        raise ValueError(f"glTF cameras need a centred principal point, got ({K[0, 2]:g}, {K[1, 2]:g}) "
                         f"for a {w}x{h} image; use text3d.geometry.cameras.intrinsics_from_fov")
    yfov = 2.0 * float(np.arctan(0.5 * h / K[1, 1]))
    aspect = (w / K[0, 0]) / (h / K[1, 1])          # tan(xfov / 2) / tan(yfov / 2): W / H for square pixels
    names = list(names) if names is not None else [f"view_{i:03d}" for i in range(len(poses))]
    if len(names) != len(poses):
        raise ValueError(f"{len(names)} camera names for {len(poses)} poses; give one name per pose")
    cameras, nodes = [], []
    for i, (pose, name) in enumerate(zip(poses, names)):
        cameras.append({"name": name, "type": "perspective",
                        "perspective": {"yfov": yfov, "aspectRatio": aspect, "znear": float(znear)}})
        matrix = world_to_export(pose).T.ravel()      # glTF matrices are column-major
        nodes.append({"name": name, "camera": i, "matrix": [float(x) for x in matrix]})
    return cameras, nodes


def write_mesh_glb(path: str | Path, mesh: Mesh, cameras: Sequence[np.ndarray] = (), K: np.ndarray | None = None,
                   image_size: tuple[int, int] | None = None, camera_names: Sequence[str] | None = None) -> Path:
    """Binary glTF (GLB) with per-vertex colours (COLOR_0) and a matte double-sided material, export world (y up).

    cameras: (4, 4) cam_to_world poses (generation frame) written as perspective glTF camera nodes (see
    ``gltf_camera_entries``; K and image_size (H, W) required with them), so glTF viewers can open the
    scene from the generation views.
    """
    from trimesh.exchange.gltf import export_glb

    scene = _trimesh(mesh, gltf=True).scene()
    if len(cameras) == 0:
        return write_bytes(path, export_glb(scene))
    if K is None or image_size is None:
        raise ValueError("writing glTF cameras needs K and image_size; pass both with the poses")
    cams, nodes = gltf_camera_entries(cameras, K, image_size, camera_names)

    def add_cameras(tree: dict) -> None:
        first = len(tree["nodes"])
        tree["nodes"].extend(nodes)
        tree["cameras"] = cams
        # Roots listed last view first: trimesh's reader keeps the last-listed root camera as the scene's
        # camera, and that should be the first view. The cameras and nodes themselves stay in view order.
        tree["scenes"][tree.get("scene", 0)]["nodes"].extend(reversed(range(first, first + len(nodes))))

    return write_bytes(path, export_glb(scene, tree_postprocessor=add_cameras))


def write_points_ply(path: str | Path, points: np.ndarray, colors: np.ndarray) -> Path:
    """Coloured point cloud PLY; points (n, 3) metres in the generation frame, colors (n, 3) float [0, 1]."""
    import trimesh

    pts = np.asarray(points, dtype=np.float64) @ CV_TO_GL[:3, :3].T
    rgba = np.concatenate([to_uint8(colors), np.full((len(pts), 1), 255, np.uint8)], axis=1)
    return write_bytes(path, trimesh.PointCloud(pts, colors=rgba).export(file_type="ply"))


def transforms_dict(K: np.ndarray, height: int, width: int, frames: Sequence[dict]) -> dict:
    """NeRF / nerfstudio ``transforms.json`` content.

    frames: dicts with ``file_path`` (relative), ``cam_to_world`` (4, 4) in the generation frame (OpenCV
    axes) and optional ``depth_file_path``. Poses are written with OpenGL camera axes in the export world.
    Our pixel centres sit at +0.5 like nerfstudio's, so cx, cy are copied unchanged.
    """
    out_frames = []
    for f in frames:
        entry = {"file_path": f["file_path"],
                 "transform_matrix": world_to_export(f["cam_to_world"]).round(8).tolist()}
        if f.get("depth_file_path"):
            entry["depth_file_path"] = f["depth_file_path"]
        out_frames.append(entry)
    return {
        "camera_model": "OPENCV",
        "fl_x": float(K[0, 0]), "fl_y": float(K[1, 1]), "cx": float(K[0, 2]), "cy": float(K[1, 2]),
        "w": int(width), "h": int(height),
        "k1": 0.0, "k2": 0.0, "p1": 0.0, "p2": 0.0,
        "frames": out_frames,
    }
