"""Exports: meshes that load back in trimesh, point clouds, transforms.json, atomic writes, PNGs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from depthgen.common.io import atomic_path, colorize, depth_to_uint16, write_json
from text3d.geometry.cameras import intrinsics_from_fov, yaw_pitch_pose
from text3d.geometry.mesh import Mesh
from text3d.run.export import transforms_dict, write_mesh_glb, write_mesh_ply, write_png, write_points_ply


def _mesh():
    v = np.array([[0, 0, 2], [1, 0, 2], [0, 1, 2], [1, 1, 2.5]], float)     # OpenCV frame, y down
    return Mesh(v, [[0, 2, 1], [1, 2, 3]], [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])


def test_ply_and_glb_load_back_with_colours_in_the_y_up_frame(tmp_path):
    import trimesh

    mesh = _mesh()
    write_mesh_ply(tmp_path / "m.ply", mesh)
    write_mesh_glb(tmp_path / "m.glb", mesh)
    ply = trimesh.load(tmp_path / "m.ply", process=False)
    scene = trimesh.load(tmp_path / "m.glb", process=False)     # (force="mesh" would drop the colours)
    assert len(scene.geometry) == 1
    glb = next(iter(scene.geometry.values()))
    expected = (mesh.colors * 255).round().astype(np.uint8)
    for loaded, colors in ((ply, ply.visual.vertex_colors), (glb, glb.visual.vertex_attributes["color"])):
        assert len(loaded.vertices) == 4 and len(loaded.faces) == 2
        assert np.allclose(loaded.vertices, mesh.vertices * [1, -1, -1], atol=1e-6)   # y up, forward = -z
        assert np.array_equal(np.asarray(colors)[:, :3], expected)
    material = glb.visual.material                  # matte and double-sided, not glTF's metallic default
    assert material.metallicFactor == 0.0 and material.doubleSided


def test_point_cloud_ply(tmp_path):
    import trimesh

    pts = np.random.default_rng(0).normal(size=(50, 3))
    write_points_ply(tmp_path / "p.ply", pts, np.full((50, 3), 0.5))
    cloud = trimesh.load(tmp_path / "p.ply")
    assert isinstance(cloud, trimesh.PointCloud) and len(cloud.vertices) == 50
    assert np.allclose(cloud.vertices, pts * [1, -1, -1])


def test_transforms_json_follows_the_nerfstudio_convention(tmp_path):
    K = intrinsics_from_fov(60.0, 64, 48)
    frames = [{"file_path": "views/rgb_000.png", "cam_to_world": np.eye(4), "depth_file_path": "views/d.png"},
              {"file_path": "views/rgb_001.png", "cam_to_world": yaw_pitch_pose(np.array([0, -1.0, 0]), 90)}]
    data = transforms_dict(K, 48, 64, frames)
    write_json(tmp_path / "transforms.json", data)
    back = json.loads((tmp_path / "transforms.json").read_text())
    assert {"fl_x", "fl_y", "cx", "cy", "w", "h", "frames"} <= set(back)
    assert back["cx"] == 32.0 and back["w"] == 64 and back["h"] == 48
    assert np.allclose(back["frames"][0]["transform_matrix"], np.eye(4))   # first view: OpenGL identity
    m = np.array(back["frames"][1]["transform_matrix"])
    assert np.allclose(m[:3, 3], [0, 1, 0])                 # 1 m up is +y
    assert np.allclose(m[:3, 2], [-1, 0, 0], atol=1e-12)    # looks right (+x): camera -z axis points at +x
    assert back["frames"][0]["depth_file_path"] == "views/d.png"


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "scene.ply"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_pngs_and_colour_maps(tmp_path):
    from PIL import Image

    depth = np.linspace(1, 5, 64, dtype=np.float32).reshape(8, 8)
    rgb = colorize(depth, depth > 2)
    assert rgb.shape == (8, 8, 3) and rgb.dtype == np.uint8 and np.all(rgb[depth <= 2] == 0)
    write_png(tmp_path / "d.png", rgb)
    write_png(tmp_path / "mm.png", depth_to_uint16(depth))
    write_png(tmp_path / "m.png", depth > 2)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "d.png")), rgb)
    mm = np.asarray(Image.open(tmp_path / "mm.png"))
    assert mm.dtype.itemsize == 2 and np.array_equal(mm, np.round(depth * 1000).astype(np.uint16))
