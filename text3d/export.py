"""Write results: meshes (PLY, GLB), point cloud, PNGs, coloured depth/uncertainty maps, transforms.json.

Every file is written to a temporary name in the same folder, then renamed, so an interrupted run leaves
no half-written file. Meshes and poses are written in the export world: y up, the first view looking
along -z (glTF / OpenGL convention), i.e. the generation frame rotated by ``cameras.CV_TO_GL``.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from text3d.cameras import CV_TO_GL, world_to_export
from text3d.mesh import Mesh


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` with the same suffix; rename it to ``path`` on success."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Atomically write ``data`` to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    """Atomically write ``data`` as indented JSON."""
    return write_bytes(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


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


def colorize(values: np.ndarray, valid: np.ndarray | None = None, cmap: str = "turbo",
             vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """(H, W) float map -> (H, W, 3) uint8 via a matplotlib colormap (2nd-98th percentile by default);
    invalid pixels are black."""
    import matplotlib

    values = np.asarray(values, dtype=np.float64)
    if valid is None:
        valid = np.isfinite(values)
    valid = valid & np.isfinite(values)
    if not valid.any():
        return np.zeros(values.shape + (3,), np.uint8)
    lo = float(np.percentile(values[valid], 2)) if vmin is None else vmin
    hi = float(np.percentile(values[valid], 98)) if vmax is None else vmax
    norm = np.clip((values - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
    rgb = matplotlib.colormaps[cmap](np.nan_to_num(norm))[..., :3]
    rgb[~valid] = 0.0
    return to_uint8(rgb)


def depth_to_uint16_mm(depth: np.ndarray) -> np.ndarray:
    """(H, W) metres -> (H, W) uint16 millimetres (0 = invalid; clipped at 65.535 m), for nerfstudio."""
    d = np.nan_to_num(np.asarray(depth, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(np.round(d * 1000.0), 0, 65535).astype(np.uint16)


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


def write_mesh_glb(path: str | Path, mesh: Mesh) -> Path:
    """Binary glTF (GLB) with per-vertex colours (COLOR_0) and a matte double-sided material, export world (y up)."""
    return write_bytes(path, _trimesh(mesh, gltf=True).export(file_type="glb"))


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
