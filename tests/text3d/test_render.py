"""Open3D ray casting of coloured meshes; lifting one view and rendering another against ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from text3d.geometry.cameras import intrinsics_from_fov, make_pose, rotation_y
from text3d.geometry.mesh import Mesh
from text3d.geometry.projection import depth_to_mesh, pixel_index, project, unproject
from text3d.geometry.render import Raycaster, render_mesh


def test_barycentric_colour_and_z_depth():
    # one triangle in the plane z = 2 with red, green, blue corners
    mesh = Mesh([[0, 0, 2], [2, 0, 2], [0, 2, 2]], [[0, 1, 2]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    h = w = 8
    K = intrinsics_from_fov(90.0, w, h)        # f = 4 px; pixel (row 5, col 5) centre ray hits (0.75, 0.75, 2)
    out = render_mesh(mesh, K, np.eye(4), h, w)
    assert out.hit[5, 5] and out.depth[5, 5] == pytest.approx(2.0, abs=1e-6)
    # barycentric weights of (0.75, 0.75): green 0.375, blue 0.375, red 0.25
    assert np.allclose(out.image[5, 5], [0.25, 0.375, 0.375], atol=1e-5)
    assert not out.hit[1, 1] and out.depth[1, 1] == 0 and out.face[1, 1] == -1


def test_rendering_a_lifted_view_from_its_own_pose_gives_it_back():
    rng = np.random.default_rng(0)
    h, w = 16, 20
    K = intrinsics_from_fov(60.0, w, h)
    pose = make_pose(rotation_y(20.0), np.array([0.3, 0.0, -0.5]))
    depth = 2.0 + 0.3 * np.sin(np.arange(w) / 3.0)[None].repeat(h, 0)   # smooth corrugated wall
    image = rng.uniform(size=(h, w, 3)).astype(np.float32)
    mesh, _ = depth_to_mesh(depth, image, K, pose)
    out = Raycaster(mesh).render(K, pose, h, w)
    inner = np.zeros((h, w), bool)
    inner[1:-1, 1:-1] = True                    # border rays graze the mesh boundary
    assert out.hit[inner].all()                 # no pinholes where rays pass exactly through vertices
    direct = inner & (out.face >= 0)            # rays that hit a face (not a filled pinhole)
    assert direct.mean() > 0.9 * inner.mean()
    assert np.allclose(out.depth[direct], depth[direct], rtol=1e-5)
    assert np.allclose(out.image[direct], image[direct], atol=1e-4)
    assert np.allclose(out.depth[inner], depth[inner], rtol=0.01)


def test_empty_mesh_renders_all_holes():
    out = Raycaster(Mesh.empty()).render(intrinsics_from_fov(60, 8, 8), np.eye(4), 8, 8, background=(0.5, 0, 0))
    assert out.holes.all() and np.allclose(out.image[..., 0], 0.5)


def _procedural():
    try:
        from depthgen.data.procedural import build_scene, generate_sample, render_view
    except ImportError as e:
        pytest.skip(f"depthgen.data.procedural is not available yet ({e})")
    return build_scene, generate_sample, render_view


@pytest.mark.parametrize("seed", [3, 4])      # a park (sky: invalid pixels) and an office
def test_lift_view0_render_view1_matches_ground_truth(seed):
    """Lift view 0's true depth; rendered from view 1 it must match the true view 1 where view 0 saw it."""
    build_scene, generate_sample, render_view = _procedural()
    h = w = 64
    sample = generate_sample(seed, size=(h, w), sensor=None)
    scene = build_scene(seed)
    K, pose0 = sample["K"], sample["cam_to_world"]
    pose1 = pose0.copy()
    pose1[:3, :3] = pose0[:3, :3] @ rotation_y(8.0)
    pose1[:3, 3] += pose0[:3, :3] @ np.array([0.15, 0.0, 0.1])       # step right and forward
    v0 = render_view(scene, K, pose0, size=(h, w))
    v1 = render_view(scene, K, pose1, size=(h, w))
    d0 = np.where(v0["valid"], v0["depth"], 0.0)
    mesh, _ = depth_to_mesh(d0, v0["rgb"].astype(np.float32) / 255.0, K, pose0, max_grazing_deg=88.0)
    out = Raycaster(mesh).render(K, pose1, h, w)

    # pixels of view 1 whose true surface point view 0 saw (projects inside view 0 at its visible depth)
    pts = unproject(np.where(v1["valid"], v1["depth"], 0.0), K, pose1).reshape(-1, 3)
    uv, z0 = project(pts, K, pose0)
    row, col, inside = pixel_index(uv, h, w)
    seen = inside & v1["valid"].ravel() & (np.abs(d0[row, col] - z0) < 0.02 * z0)
    seen = seen.reshape(h, w) & out.hit
    assert seen.mean() > 0.3, "the two views should overlap"
    rel = np.abs(out.depth[seen] - v1["depth"][seen]) / v1["depth"][seen]
    assert np.median(rel) < 1e-3            # planar faces lift exactly (measured 0 on 8 scenes)
    assert np.mean(rel < 0.05) > 0.97       # the rest: triangles across edges (measured >= 0.987)
    colour_err = np.abs(out.image[seen] - v1["rgb"][seen] / 255.0).mean()
    assert colour_err < 0.05                # measured <= 0.023
