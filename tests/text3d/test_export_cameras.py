"""glTF cameras in scene.glb: perspective camera nodes that load back with the generation views' poses."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from text3d.geometry.cameras import CV_TO_GL, intrinsics_from_fov, look_at, yaw_pitch_pose
from text3d.geometry.mesh import Mesh
from text3d.run.export import write_mesh_glb


def _mesh() -> Mesh:
    v = np.array([[0, 0, 2], [1, 0, 2], [0, 1, 2], [1, 1, 2.5]], float)     # OpenCV frame, y down
    return Mesh(v, [[0, 2, 1], [1, 2, 3]], [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])


def _poses() -> list[np.ndarray]:
    return [yaw_pitch_pose(np.zeros(3), 0.0), yaw_pitch_pose(np.array([0.3, -0.1, 0.5]), 40.0, 10.0),
            look_at(np.array([-1.0, -0.5, 0.2]), np.array([0.5, 0.5, 2.0]))]


def read_gltf_json(path) -> dict:
    """The JSON chunk of a GLB file (glTF 2.0 binary: 12-byte header, then length-prefixed chunks)."""
    data = path.read_bytes()
    magic, version, _ = struct.unpack_from("<4sII", data, 0)
    length, kind = struct.unpack_from("<I4s", data, 12)
    assert magic == b"glTF" and version == 2 and kind == b"JSON"
    return json.loads(data[20:20 + length])


def _world_matrices(tree: dict) -> dict[int, np.ndarray]:
    """Node index -> (4, 4) world matrix, walking the default scene from its roots."""
    out: dict[int, np.ndarray] = {}

    def local(node: dict) -> np.ndarray:
        if "matrix" in node:
            return np.asarray(node["matrix"], float).reshape(4, 4).T             # column-major
        assert not {"translation", "rotation", "scale"} & set(node), "only matrices are written"
        return np.eye(4)

    def walk(i: int, parent: np.ndarray) -> None:
        out[i] = parent @ local(tree["nodes"][i])
        for c in tree["nodes"][i].get("children", []):
            walk(c, out[i])

    for root in tree["scenes"][tree.get("scene", 0)]["nodes"]:
        walk(root, np.eye(4))
    return out


def test_cameras_load_back_with_the_generation_poses(tmp_path):
    poses, (h, w) = _poses(), (48, 64)
    K = intrinsics_from_fov(70.0, w, h)
    names = ["view_000_first", "view_001_trajectory", "view_002_cleanup"]
    write_mesh_glb(tmp_path / "m.glb", _mesh(), poses, K, (h, w), names)
    tree = read_gltf_json(tmp_path / "m.glb")
    world = _world_matrices(tree)
    cams = [(i, n) for i, n in enumerate(tree["nodes"]) if "camera" in n and i in world]
    assert [n["name"] for _, n in cams] == names
    for (i, node), pose in zip(cams, poses):
        cam = tree["cameras"][node["camera"]]
        assert cam["type"] == "perspective"
        assert cam["perspective"]["yfov"] == pytest.approx(2 * np.arctan(h / 2 / K[1, 1]))
        assert cam["perspective"]["aspectRatio"] == pytest.approx(w / h)
        # The node's pose with glTF camera axes (x right, y up, looking down -z) in the y-up export world
        # is the OpenCV pose with both frames flipped about x.
        assert np.allclose(world[i], CV_TO_GL @ pose @ CV_TO_GL, atol=1e-7)
        assert np.allclose(world[i][:3, :3] @ world[i][:3, :3].T, np.eye(3), atol=1e-7)   # a pure rotation


def test_gltf_cameras_project_the_mesh_where_the_views_saw_it(tmp_path):
    """Independent of the conversion formula: a point the OpenCV camera sees at pixel (u, v) lands at the
    same pixel through the glTF camera (its node matrix, -z forward, yfov, aspect), in the export world."""
    poses, (h, w) = _poses(), (48, 64)
    K = intrinsics_from_fov(70.0, w, h)
    mesh = _mesh()
    write_mesh_glb(tmp_path / "m.glb", mesh, poses, K, (h, w))
    tree = read_gltf_json(tmp_path / "m.glb")
    world = _world_matrices(tree)
    cams = [(i, n) for i, n in enumerate(tree["nodes"]) if "camera" in n]
    points_export = mesh.vertices @ CV_TO_GL[:3, :3].T                 # how the mesh itself is written
    for (i, node), pose in zip(cams, poses):
        p = tree["cameras"][node["camera"]]["perspective"]
        local = (np.linalg.inv(world[i]) @ np.c_[points_export, np.ones(len(points_export))].T)[:3].T
        cam = (np.linalg.inv(pose) @ np.c_[mesh.vertices, np.ones(len(mesh.vertices))].T)[:3].T
        assert np.array_equal(local[:, 2] < 0, cam[:, 2] > 0)              # in front of both cameras alike
        ndc_x = local[:, 0] / -local[:, 2] / (np.tan(p["yfov"] / 2) * p["aspectRatio"])
        ndc_y = local[:, 1] / -local[:, 2] / np.tan(p["yfov"] / 2)
        u_gl, v_gl = (ndc_x + 1) / 2 * w, (1 - ndc_y) / 2 * h               # y up in NDC, rows go down
        uv = (K @ cam.T).T
        assert np.allclose(u_gl, uv[:, 0] / uv[:, 2], atol=1e-6) and np.allclose(v_gl, uv[:, 1] / uv[:, 2], atol=1e-6)


def test_trimesh_reads_the_first_camera_and_the_mesh(tmp_path):
    import trimesh

    poses, (h, w) = _poses(), (48, 64)
    K = intrinsics_from_fov(70.0, w, h)
    write_mesh_glb(tmp_path / "m.glb", _mesh(), poses, K, (h, w))
    scene = trimesh.load(tmp_path / "m.glb", process=False)
    assert len(scene.geometry) == 1 and len(next(iter(scene.geometry.values())).faces) == 2
    assert np.allclose(scene.camera_transform, CV_TO_GL @ poses[0] @ CV_TO_GL, atol=1e-7)
    yfov = np.degrees(2 * np.arctan(h / 2 / K[1, 1]))
    assert scene.camera.fov[1] == pytest.approx(yfov, rel=1e-6)
    # (trimesh reads the horizontal fov as yfov * aspectRatio, angles rather than tangents, so it is not checked)


def test_no_cameras_keeps_the_plain_mesh_file(tmp_path):
    write_mesh_glb(tmp_path / "m.glb", _mesh())
    tree = read_gltf_json(tmp_path / "m.glb")
    assert "cameras" not in tree and not any("camera" in n for n in tree["nodes"])


@pytest.mark.parametrize("kwargs, message", [
    ({"K": None}, "needs K and image_size"),
    ({"K": np.array([[50.0, 0, 10.0], [0, 50.0, 24.0], [0, 0, 1]])}, "centred principal point"),
    ({"camera_names": ["only one"]}, "one name per pose"),
])
def test_bad_camera_arguments_are_one_line_errors(tmp_path, kwargs, message):
    args = {"K": intrinsics_from_fov(60.0, 64, 48), "image_size": (48, 64), **kwargs}
    with pytest.raises(ValueError, match=message) as e:
        write_mesh_glb(tmp_path / "m.glb", _mesh(), _poses(), **args)
    assert "\n" not in str(e.value)
    assert not list(tmp_path.iterdir())                               # nothing half-written


def test_a_run_writes_one_camera_per_view_matching_transforms_json(tmp_path):
    import text3d
    from text3d.fakes import fake_backends

    res = text3d.generate_scene("a cozy library", out_dir=tmp_path / "run", preset="fast", views=2, seed=0,
                                size=(48, 32), trajectory="walk", backends=fake_backends(),
                                overrides=("cleanup.views=1", "cleanup.score_size=16", "video.enabled=false"))
    tree = read_gltf_json(res.paths["glb"])
    world = _world_matrices(tree)
    transforms = json.loads(res.paths["transforms"].read_text())
    frames = transforms["frames"]
    cams = [(i, n) for i, n in enumerate(tree["nodes"]) if "camera" in n]
    assert len(cams) == len(frames) == len(res.views) == 3 and transforms["w"] != transforms["h"]
    assert [n["name"] for _, n in cams] == [f"view_{v.index:03d}_{v.kind}" for v in res.views]
    for (i, node), frame in zip(cams, frames):      # transforms.json: OpenGL camera axes in the export world too
        assert np.allclose(world[i], np.asarray(frame["transform_matrix"]), atol=1e-6)
        assert tree["cameras"][node["camera"]]["perspective"]["aspectRatio"] == pytest.approx(transforms["w"] / transforms["h"])
