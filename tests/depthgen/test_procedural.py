"""Procedural scenes: determinism, value ranges, exact z-depth, multi-view consistency, sensors, captions, splits."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("open3d")

from depthgen.data.procedural import SCENE_TYPES, build_scene, generate_sample, render_view, split_seed  # noqa: E402
from depthgen.data.procedural.builder import SceneBuilder  # noqa: E402
from depthgen.data.procedural.camera import look_pose, sample_camera  # noqa: E402
from depthgen.data.procedural.captions import TYPE_NAMES, plural  # noqa: E402
from depthgen.data.procedural.materials import MAT, NO_RETURN, PALETTE, colour  # noqa: E402
from depthgen.data.procedural.render import intrinsics  # noqa: E402
from depthgen.data.procedural.sensors import kinect_tolerance  # noqa: E402

SIZE = (24, 32)


def test_same_seed_same_sample_and_camera_independent_of_size():
    a = generate_sample(123, SIZE, "kinect")
    b = generate_sample(123, SIZE, "kinect")
    for k in ("rgb", "depth", "valid", "sensor_depth", "K", "cam_to_world", "object_id"):
        np.testing.assert_array_equal(a[k], b[k])
    assert a["captions"] == b["captions"] and a["scene_type"] == b["scene_type"]
    c = generate_sample(123, (12, 16), "kinect")
    np.testing.assert_array_equal(a["cam_to_world"], c["cam_to_world"])
    np.testing.assert_allclose(c["K"][:2] * 2, a["K"][:2])
    assert not np.array_equal(generate_sample(124, SIZE, None)["rgb"], a["rgb"])


@pytest.mark.parametrize("scene_type", SCENE_TYPES)
def test_every_scene_type_has_sane_values(scene_type):
    s = generate_sample(7, SIZE, "kinect", scene_type=scene_type)
    h, w = SIZE
    assert s["rgb"].shape == (h, w, 3) and s["rgb"].dtype == np.uint8
    assert s["depth"].shape == (h, w) and s["depth"].dtype == np.float32
    assert s["sensor_depth"].dtype == np.float32 and s["valid"].dtype == bool
    assert s["K"].shape == (3, 3) and s["cam_to_world"].shape == (4, 4)
    np.testing.assert_allclose(s["cam_to_world"][:3, :3] @ s["cam_to_world"][:3, :3].T, np.eye(3), atol=1e-9)
    assert np.array_equal(s["valid"], s["depth"] > 0)
    d = s["depth"][s["valid"]]
    assert d.size > 0.3 * h * w and np.isfinite(d).all()
    if s["outdoor"]:
        assert d.max() < 95.0 and s["scene_type"] in ("street", "park", "forest", "beach", "hills")
    else:
        assert s["valid"].all() and d.min() > 0.3 and d.max() < 12.0
        assert np.median(d) > 1.5  # looks into the room, not at a wall in front of the lens
    assert 20 < s["rgb"].mean() < 240 and s["rgb"].std() > 5
    eye = s["cam_to_world"][2, 3]
    if not s["outdoor"]:
        assert 1.2 <= eye <= 1.8
    hfov = np.degrees(2 * np.arctan(w / 2 / s["K"][0, 0]))
    assert 55 <= hfov <= 75


def _wall_scene(distance: float):
    b = SceneBuilder(0, "gallery", False, np.random.default_rng(0))
    wid = b.new_object("walls", "white", "plaster", structural=True)
    y = distance
    b.quad([[-50, y, -50], [50, y, -50], [50, y, 50], [-50, y, 50]], wid, "plaster", colour("white"))
    b.point_light([0.0, 1.0, 0.0], np.ones(3), 1.0)
    return b.finish()


def test_z_depth_of_a_wall_is_exact_everywhere_including_corners():
    scene = _wall_scene(3.0)
    pose = look_pose(np.zeros(3), 0.0, 0.0)  # looking along +y at the wall y = 3
    K = intrinsics((30, 40), 70.0)
    view = render_view(scene, K, pose, (30, 40), sensor=None)
    assert view["valid"].all()
    np.testing.assert_allclose(view["depth"], 3.0, atol=1e-5)  # z-depth, not ray length (corners ~3.8 m)
    np.testing.assert_allclose(view["normal"][..., 2], -1.0, atol=1e-5)  # faces the camera (OpenCV z)
    np.testing.assert_array_equal(view["sensor_depth"], view["depth"])


def _unproject(view, mask):
    v, u = np.nonzero(mask)
    z = view["depth"][v, u].astype(np.float64)
    pc = np.stack([(u + 0.5 - view["K"][0, 2]) / view["K"][0, 0] * z, (v + 0.5 - view["K"][1, 2]) / view["K"][1, 1] * z,
                   z], 1)
    T = view["cam_to_world"]
    return pc @ T[:3, :3].T + T[:3, 3], v, u


def test_second_pose_agrees_with_reprojection_of_the_first():
    scene = build_scene(split_seed("test", 3), scene_type="living room")
    hfov, pose1 = sample_camera(scene, np.random.default_rng(0))
    size = (36, 48)
    K = intrinsics(size, hfov)
    f = pose1[:3, 2]
    yaw, pitch = np.arctan2(-f[0], f[1]), np.arcsin(f[2])
    pose2 = look_pose(pose1[:3, 3] + [0.25, -0.1, 0.1], yaw + np.radians(6.0), pitch + np.radians(2.0))
    v1 = render_view(scene, K, pose1, size)
    v2 = render_view(scene, K, pose2, size)
    pts, _, _ = _unproject(v2, v2["valid"])
    T1 = np.linalg.inv(pose1)
    pc = pts @ T1[:3, :3].T + T1[:3, 3]
    uv = pc[:, :2] / pc[:, 2:3] * [K[0, 0], K[1, 1]] + [K[0, 2], K[1, 2]]
    inside = (pc[:, 2] > 0.1) & (uv[:, 0] >= 0) & (uv[:, 0] < size[1]) & (uv[:, 1] >= 0) & (uv[:, 1] < size[0])
    assert inside.mean() > 0.5
    ui, vi = uv[inside].astype(int).T
    agree = np.abs(v1["depth"][vi, ui] - pc[inside, 2]) < 0.05 * pc[inside, 2] + 0.02
    assert agree.mean() > 0.85  # the rest: occlusion boundaries and pixel snapping at depth edges
    # Colours are a function of the surface point: re-render pixels of view 2 with a one-pixel camera from pose 1
    # aimed exactly at each surface point.
    rng = np.random.default_rng(1)
    idx = rng.choice(len(pts), 25, replace=False)
    v2_rgb = v2["rgb"][v2["valid"]]
    same = 0
    for i in idx:
        d = pts[i] - pose1[:3, 3]
        dist = np.linalg.norm(d)
        d /= dist
        pose = look_pose(pose1[:3, 3], np.arctan2(-d[0], d[1]), np.arcsin(d[2]))
        one = render_view(scene, intrinsics((1, 1), 1.0), pose, (1, 1), captions=False)
        if abs(one["depth"][0, 0] - dist) < 1e-3 * dist:  # not occluded from pose 1
            assert np.abs(one["rgb"][0, 0].astype(int) - v2_rgb[i].astype(int)).max() <= 2
            same += 1
    assert same >= 10


def test_kinect_holes_only_where_the_model_puts_them():
    found_glass = False
    for i in range(12):
        s = generate_sample(split_seed("val", i), SIZE, "kinect", scene_type=["bedroom", "bathroom", "gallery"][i % 3])
        sd, d = s["sensor_depth"], s["depth"]
        ok = sd > 0
        assert ok.mean() > 0.3
        assert (np.abs(sd[ok] - d[ok]) <= kinect_tolerance(d[ok])).all()
        glass = NO_RETURN[np.clip(s["material_id"], 0, None)] & (s["material_id"] >= 0)
        assert not ok[glass].any()
        found_glass |= bool(glass.any())
    assert found_glass  # some window or mirror was in view


def test_lidar_is_sparse_and_invalid_on_sky():
    s = generate_sample(split_seed("val", 0), (48, 64), "lidar", scene_type="street")
    ok = s["sensor_depth"] > 0
    assert 0.02 < ok.mean() < 0.4
    assert not ok[~s["valid"]].any()
    assert (np.abs(s["sensor_depth"][ok] - s["depth"][ok]) < 0.15).all()
    assert s["sensor"] == "lidar"
    k = generate_sample(split_seed("val", 0), (48, 64), "kinect", scene_type="park")
    assert k["sensor"] == "lidar"  # structured light does not work in sunlight


def _vocabulary() -> set[str]:
    names = set()
    for t in SCENE_TYPES:
        for seed in range(3):
            names |= {o.category for o in build_scene(seed, scene_type=t).objects}
    return names


def _mentions(text: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}\b", text) is not None


def test_captions_name_the_type_and_only_visible_things_with_their_colours():
    vocab = _vocabulary()
    colours = sorted(PALETTE, key=len, reverse=True)
    for i, t in enumerate(SCENE_TYPES):
        s = generate_sample(split_seed("test", i), SIZE, None, scene_type=t)
        scene = build_scene(s["seed"], scene_type=t)
        ids = np.unique(s["object_id"][s["object_id"] >= 0])
        visible = [scene.objects[j] for j in ids]
        cats = {o.category for o in visible}
        allowed_colours = {o.colour for o in visible if o.colour}
        assert len(s["captions"]) >= 3 and len(set(s["captions"])) == len(s["captions"])
        for cap in s["captions"]:
            assert any(n in cap for n in TYPE_NAMES[t]), (t, cap)
            for word in vocab:
                if _mentions(cap, word) or _mentions(cap, plural(word)):
                    assert any(word in c for c in cats), (word, cap, cats)
            text = cap.replace("blue sky", "").replace("grey sky", "")
            for c in colours:
                if _mentions(text, c):
                    assert c in allowed_colours, (c, cap, allowed_colours)
                    text = re.sub(rf"\b{re.escape(c)}\b", "", text)


def test_splits_are_disjoint_ranges():
    seeds = {s: {split_seed(s, i) for i in (0, 1, 999, 49_999_999)} for s in ("val", "test")}
    seeds["train"] = {split_seed("train", i) for i in (0, 1, 999_999_999)}
    assert not (seeds["train"] & seeds["val"]) and not (seeds["val"] & seeds["test"])
    assert not (seeds["train"] & seeds["test"])
    assert split_seed("val", 49_999_999) < split_seed("test", 0)
    assert split_seed("train", 999_999_999) < split_seed("val", 0)
    with pytest.raises(ValueError, match="split must be"):
        split_seed("holdout", 0)
    with pytest.raises(ValueError, match="index must be"):
        split_seed("val", 50_000_000)


def test_scene_mesh_colours_match_the_render():
    scene = _wall_scene(2.0)
    V, F, C = scene.mesh(max_edge=5.0)
    assert V.shape[1] == 3 and F.shape[1] == 3 and C.shape == V.shape and F.max() < len(V)
    assert 0.0 <= C.min() and C.max() <= 1.0
    # A vertex straight ahead of the camera: its colour equals the rendered pixel there.
    near = np.argmin(np.linalg.norm(V - [0.0, 2.0, 0.0], axis=1))
    p = V[near]
    pose = look_pose(np.zeros(3), np.arctan2(-p[0], p[1]), np.arcsin(p[2] / np.linalg.norm(p)))
    one = render_view(scene, intrinsics((1, 1), 1.0), pose, (1, 1), captions=False)
    assert np.abs(one["rgb"][0, 0] / 255.0 - C[near]).max() < 2.5 / 255


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="sensor"):
        generate_sample(0, SIZE, "sonar")
    with pytest.raises(ValueError, match="scene_type"):
        build_scene(0, scene_type="castle")
    with pytest.raises(ValueError, match="size"):
        generate_sample(0, (0, 4))
    assert MAT["glass"] >= 0


def test_scene_mix_is_about_80_20_and_covers_every_type():
    from depthgen.data.procedural import choose_scene_type
    from depthgen.data.procedural.outdoor import OUTDOOR_TYPES

    types = [choose_scene_type(split_seed("train", i)) for i in range(3000)]
    outdoor = np.mean([t in OUTDOOR_TYPES for t in types])
    assert 0.17 < outdoor < 0.23 and set(types) == set(SCENE_TYPES)
    assert all(choose_scene_type(i, outdoor_fraction=1.0) in OUTDOOR_TYPES for i in range(50))
    assert len(SCENE_TYPES) - len(OUTDOOR_TYPES) >= 8 and len(OUTDOOR_TYPES) >= 3
