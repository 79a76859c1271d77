"""Cameras and trajectories: intrinsics, pose conventions, presets and segment files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from text3d.geometry.cameras import (intrinsics_from_fov, look_at, scale_intrinsics, world_to_export, yaw_pitch_pose)
from text3d.config import TrajectoryConfig
from text3d.geometry.projection import project
from text3d.run.trajectory import build_views, check_overlap, load_segments, resolve_trajectory


def test_intrinsics_from_fov_spans_the_field_of_view():
    K = intrinsics_from_fov(60.0, 64, 48)
    # the left and right image borders (u = 0 and u = W) are at -+30 degrees
    assert math.degrees(math.atan((64 - K[0, 2]) / K[0, 0])) == pytest.approx(30.0)
    assert math.degrees(math.atan((0 - K[0, 2]) / K[0, 0])) == pytest.approx(-30.0)
    assert K[0, 0] == K[1, 1] and K[1, 2] == 24.0
    K4 = scale_intrinsics(K, (48, 64), (192, 256))
    assert np.allclose(K4[:2], K[:2] * 4)


def test_look_at_points_the_optical_axis_at_the_target():
    eye, target = np.array([1.0, -0.5, -2.0]), np.array([0.3, 0.2, 1.0])
    pose = look_at(eye, target)
    R = pose[:3, :3]
    assert np.allclose(R.T @ R, np.eye(3)) and np.linalg.det(R) == pytest.approx(1.0)
    K = intrinsics_from_fov(60.0, 64, 64)
    uv, z = project(target[None], K, pose)
    assert np.allclose(uv[0], [32.0, 32.0]) and z[0] > 0
    assert R[1, 0] == pytest.approx(0.0, abs=1e-12)    # no roll: camera x stays horizontal (world y is vertical)


def test_yaw_pitch_directions():
    assert np.allclose(yaw_pitch_pose(np.zeros(3), 0, 0), np.eye(4))
    assert np.allclose(yaw_pitch_pose(np.zeros(3), 90, 0)[:3, 2], [1, 0, 0])      # turned right
    assert yaw_pitch_pose(np.zeros(3), 0, 30)[1, 2] < 0                          # tilted up (-y is up)


def test_first_view_is_the_identity_in_the_opengl_export_frame():
    assert np.allclose(world_to_export(np.eye(4)), np.eye(4))
    pose = yaw_pitch_pose(np.array([0.0, -1.0, 2.0]), 0, 0)     # 1 m up, 2 m forward (OpenCV world)
    out = world_to_export(pose)
    assert np.allclose(out[:3, 3], [0.0, 1.0, -2.0])            # y up, forward is -z


def test_orbit_turns_in_place_evenly():
    views = build_views(resolve_trajectory("orbit", 8), TrajectoryConfig(), "p", 3.0)
    assert len(views) == 8 and views[0].kind == "first"
    assert all(np.allclose(v.cam_to_world[:3, 3], 0) for v in views)
    yaws = [math.degrees(math.atan2(v.cam_to_world[0, 2], v.cam_to_world[2, 2])) % 360 for v in views]
    assert np.allclose(np.diff(yaws), 45.0)


@pytest.mark.parametrize("views, degrees, ok", [(8, 360, True), (7, 360, False), (4, 135, True), (3, 135, False)])
def test_orbits_whose_views_do_not_overlap_are_refused(views, degrees, ok):
    cfg = TrajectoryConfig(fov_deg=60.0, min_overlap_deg=15.0, orbit_degrees=degrees)
    segments = resolve_trajectory("orbit", views)
    if ok:
        check_overlap(segments, cfg)
    else:
        with pytest.raises(ValueError, match=r"use at least (8|4) views"):
            check_overlap(segments, cfg)


def test_walk_moves_forward_but_not_through_the_scene():
    cfg = TrajectoryConfig(walk_step=1.0, walk_max_fraction=0.5)
    views = build_views(resolve_trajectory("walk", 5), cfg, "p", 2.0)
    z = [v.cam_to_world[2, 3] for v in views]
    assert np.all(np.diff(z) > 0) and z[-1] == pytest.approx(1.0)   # capped at 0.5 * 2 m


def test_zoom_out_moves_back_and_up():
    views = build_views(resolve_trajectory("zoom-out", 3), TrajectoryConfig(), "p", 3.0)
    pos = np.array([v.cam_to_world[:3, 3] for v in views])
    assert np.all(np.diff(pos[:, 2]) < 0) and np.all(np.diff(pos[:, 1]) < 0)


def test_segment_file_with_prompts(tmp_path):
    spec = {"segments": [
        {"preset": "orbit", "views": 3, "params": {"orbit_degrees": 90}},
        {"prompt": "a bed by the window", "poses": [{"position": [0, 0, 0.5], "yaw_deg": 120},
                                                    np.eye(4).tolist()]},
        {"preset": "walk", "views": 2, "prompt": "a rug"},
    ]}
    path = tmp_path / "tour.json"
    path.write_text(json.dumps(spec))
    views = build_views(load_segments(path), TrajectoryConfig(), "a cozy library", 3.0)
    assert [v.prompt for v in views] == ["a cozy library"] * 3 + ["a bed by the window"] * 2 + ["a rug"] * 2
    assert [v.segment for v in views] == [0, 0, 0, 1, 1, 2, 2]
    assert np.allclose(views[2].cam_to_world[:3, 2], [1, 0, 0], atol=1e-12)   # 90 deg over 2 steps
    assert np.allclose(views[3].cam_to_world[:3, 3], [0, 0, 0.5])
    assert views[5].cam_to_world[2, 3] > views[4].cam_to_world[2, 3]          # the walk continues forward


@pytest.mark.parametrize("bad, needle", [
    ({"segments": []}, "non-empty"),
    ({"segments": [{"preset": "spiral"}]}, "preset must be"),
    ({"segments": [{"preset": "orbit", "views": 0}]}, "views must be"),
    ({"segments": [{"preset": "orbit", "colour": 1}]}, "unknown key"),
    ({"segments": [{"poses": [[[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]]}]}, "rotation"),
])
def test_bad_segment_files_say_what_is_wrong(tmp_path, bad, needle):
    path = tmp_path / "t.yaml"
    import yaml

    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(ValueError, match=needle):
        load_segments(path)


def test_example_trajectory_files_parse():
    from text3d.config import TRAJECTORY_DIR

    files = sorted(TRAJECTORY_DIR.glob("*.yaml")) + sorted(TRAJECTORY_DIR.glob("*.json"))
    assert files
    for path in files:
        views = build_views(load_segments(path), TrajectoryConfig(), "a room", 3.0)
        assert len(views) >= 2 and views[0].kind == "first"


@pytest.mark.parametrize("degrees, fov, start, want", [(360, 60, True, 8), (360, 59.5, True, 9), (360, 75, True, 6),
                                                       (135, 60, True, 4), (135, 60, False, 3)])
def test_min_orbit_views_is_the_fewest_that_pass_the_overlap_check(degrees, fov, start, want):
    from text3d.run.trajectory import min_orbit_views

    assert min_orbit_views(degrees, fov, 15.0, include_start=start) == want
    if start:  # the check agrees: want views pass, one fewer is refused
        cfg = TrajectoryConfig(fov_deg=fov, min_overlap_deg=15.0, orbit_degrees=degrees)
        check_overlap(resolve_trajectory("orbit", want), cfg)
        with pytest.raises(ValueError, match="do not overlap"):
            check_overlap(resolve_trajectory("orbit", want - 1), cfg)


def test_level_view_homography_moves_the_horizon_by_the_pitch():
    """A level or merely turned view maps a level picture onto itself; a view tilted down by 30 degrees sees
    the level picture's centre (the horizon straight ahead) f * tan(30) px higher, one tilted up that much
    lower; the map and the reverse rotation's map undo each other."""
    from text3d.geometry.cameras import rotation_homography, rotation_y
    from text3d.run.trajectory import level_rotation, level_view_homography

    K = intrinsics_from_fov(60.0, 64, 48)
    f, cx, cy = K[0, 0], K[0, 2], K[1, 2]
    for yaw in (0.0, 37.0, -120.0):
        np.testing.assert_allclose(level_view_homography(K, yaw_pitch_pose(np.array([1.0, 0.2, -3.0]), yaw)),
                                   np.eye(3), atol=1e-12)
    for pitch, row in ((-30.0, cy - f * math.tan(math.radians(30))), (30.0, cy + f * math.tan(math.radians(30)))):
        pose = yaw_pitch_pose(np.zeros(3), 50.0, pitch)
        q = level_view_homography(K, pose) @ np.array([cx, cy, 1.0])
        np.testing.assert_allclose(q[:2] / q[2], [cx, row], atol=1e-9)
        rot = pose[:3, :3]
        np.testing.assert_allclose(level_rotation(rot), rotation_y(50.0), atol=1e-12)
        back = rotation_homography(K, rot, level_rotation(rot)) @ level_view_homography(K, pose)
        np.testing.assert_allclose(back / back[2, 2], np.eye(3), atol=1e-9)
