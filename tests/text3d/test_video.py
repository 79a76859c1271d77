"""Novel-view video: a smooth closed path that differs from the generation path; MP4 that reads back."""

from __future__ import annotations

import numpy as np

from text3d.geometry.cameras import intrinsics_from_fov, yaw_pitch_pose
from text3d.geometry.projection import depth_to_mesh
from text3d.run.video import novel_path, render_frames, write_mp4


def _keys():
    return [yaw_pitch_pose(np.array([0.0, 0.0, 0.3 * i]), 15.0 * i) for i in range(4)]


def test_path_is_a_smooth_loop_through_the_keyframes_when_not_swung():
    poses = novel_path(_keys(), 40, swing=0.0)
    assert len(poses) == 40
    assert np.allclose(poses[0], _keys()[0]) and np.allclose(poses[10], _keys()[1])   # 10 frames per key
    pos = np.array([p[:3, 3] for p in poses])
    steps = np.linalg.norm(np.diff(np.vstack([pos, pos[:1]]), axis=0), axis=1)
    assert steps.max() < 3 * np.median(steps)                     # no jumps, including the wrap-around
    for p in poses:
        assert np.allclose(p[:3, :3].T @ p[:3, :3], np.eye(3), atol=1e-9)


def test_swing_moves_the_path_off_the_generation_path():
    base = novel_path(_keys(), 40, swing=0.0)
    swung = novel_path(_keys(), 40, swing=0.2)
    off = np.array([np.linalg.norm(a[:3, 3] - b[:3, 3]) for a, b in zip(base, swung)])
    assert off.max() > 0.15 and off.max() <= 0.2 * np.sqrt(1.25) + 1e-9
    single = novel_path(_keys()[:1], 8, swing=0.1)                # one view: a small loop around it
    assert len({tuple(np.round(p[:3, 3], 6)) for p in single}) > 4


def test_frames_render_at_video_size_and_mp4_reads_back(tmp_path):
    h = w = 16
    K = intrinsics_from_fov(60.0, w, h)
    image = np.random.default_rng(0).uniform(size=(h, w, 3)).astype(np.float32)
    mesh, _ = depth_to_mesh(np.full((h, w), 2.0), image, K, np.eye(4))
    poses = novel_path([np.eye(4)], 6, swing=0.05)
    frames = render_frames(mesh, K, (h, w), poses, (64, 48), (0.0, 0.0, 0.0))
    assert frames.shape == (6, 64, 48, 3) and frames.dtype == np.uint8 and frames.mean() > 20
    write_mp4(tmp_path / "v.mp4", frames, fps=6)
    back = read_mp4(tmp_path / "v.mp4")
    assert back.shape == (6, 64, 48, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]     # no temporary file left


def read_mp4(path) -> np.ndarray:
    """(N, H, W, 3) uint8 frames of an MP4, via imageio-ffmpeg."""
    import imageio.v2 as imageio

    reader = imageio.get_reader(path, format="FFMPEG")
    try:
        return np.stack(list(reader.iter_data()))
    finally:
        reader.close()
