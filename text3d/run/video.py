"""A smooth novel-view video of the mesh: a closed loop through the trajectory poses, swung sideways and up
and down so it differs from the generation path, rendered by ray casting at a higher resolution than the
views and encoded as H.264 MP4 with imageio-ffmpeg."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from depthgen.common.io import atomic_path
from text3d.geometry.cameras import make_pose, rotation_y, scale_intrinsics
from text3d.geometry.mesh import Mesh
from text3d.geometry.render import Raycaster
from text3d.run.export import to_uint8


def novel_path(keyframes: Sequence[np.ndarray], frames: int, swing: float) -> list[np.ndarray]:
    """``frames`` cam_to_world (4, 4) poses along a closed loop through ``keyframes`` (4, 4).

    Rotations are slerped and positions follow a periodic cubic spline, so the loop is smooth and repeats
    seamlessly. Each frame is then shifted ``swing`` metres sideways (two swings per loop) and half that up
    and down (three per loop) in its own camera frame. One keyframe gives a small circle with a gentle yaw.
    """
    from scipy.interpolate import CubicSpline
    from scipy.spatial.transform import Rotation, Slerp

    if frames < 2:
        raise ValueError(f"a video needs at least 2 frames, got {frames}")
    s = np.arange(frames) / frames                                   # loop parameter in [0, 1)
    keys = [np.asarray(k, dtype=np.float64) for k in keyframes]
    if len(keys) == 1:
        base = keys[0]
        rots = [rotation_y(8.0 * np.sin(2 * np.pi * si)) @ base[:3, :3] for si in s]
        pos = np.repeat(base[None, :3, 3], frames, axis=0)
    else:
        loop = keys + [keys[0]]
        times = np.arange(len(loop), dtype=np.float64)
        slerp = Slerp(times, Rotation.from_matrix(np.stack([k[:3, :3] for k in loop])))
        spline = CubicSpline(times, np.stack([k[:3, 3] for k in loop]), bc_type="periodic")
        t = s * (len(loop) - 1)
        rots = list(slerp(t).as_matrix())
        pos = spline(t)
    poses = []
    for i, si in enumerate(s):
        rot = rots[i]
        shift = rot[:, 0] * swing * np.sin(4 * np.pi * si) - rot[:, 1] * 0.5 * swing * np.sin(6 * np.pi * si)
        poses.append(make_pose(rot, pos[i] + shift))
    return poses


def render_frames(mesh: Mesh, K: np.ndarray, view_size: tuple[int, int], poses: Sequence[np.ndarray],
                  size: tuple[int, int], background: tuple[float, float, float],
                  progress: Callable[[float], None] | None = None) -> np.ndarray:
    """(N, H, W, 3) uint8 frames at ``size`` (H, W) with the views' field of view (K given at ``view_size``)."""
    Kv = scale_intrinsics(K, view_size, size)
    caster = Raycaster(mesh)
    out = np.empty((len(poses), size[0], size[1], 3), np.uint8)
    for i, pose in enumerate(poses):
        out[i] = to_uint8(caster.render(Kv, pose, size[0], size[1], background).image)
        if progress is not None:
            progress((i + 1) / len(poses))
    return out


def write_mp4(path: str | Path, frames: np.ndarray, fps: int) -> Path:
    """Atomically write (N, H, W, 3) uint8 frames as H.264 MP4 (yuv420p; H and W even)."""
    import imageio.v2 as imageio

    n, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"video size {w}x{h} must be even for H.264")
    with atomic_path(path) as tmp:
        writer = imageio.get_writer(tmp, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                    pixelformat="yuv420p", macro_block_size=2, quality=8,
                                    ffmpeg_log_level="error", output_params=["-preset", "veryfast"])
        try:
            for frame in frames:
                writer.append_data(frame)
        finally:
            writer.close()
    return Path(path)
