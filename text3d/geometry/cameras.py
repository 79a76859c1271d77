"""Camera intrinsics and poses as plain arrays.

Conventions (docs/ARCHITECTURE.md): OpenCV camera frame (x right, y down, z forward), metres,
``K`` (3, 3) float64 in pixels, ``cam_to_world`` (4, 4) float64. Pixel (row v, column u) has its centre at
image coordinates (u + 0.5, v + 0.5), as in Open3D's ``create_rays_pinhole`` and nerfstudio, so a centred
principal point is (W / 2, H / 2).

The generation world frame is the first view's camera frame: "up" is -y, the first view looks along +z.
"""

from __future__ import annotations

import math

import numpy as np

# OpenCV camera axes -> OpenGL camera axes (x right, y up, z backward); also the world change of basis
# applied on export so that viewers see +y as up. A rotation (det +1): triangle winding is preserved.
CV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])


def intrinsics_from_fov(fov_deg: float, width: int, height: int) -> np.ndarray:
    """(3, 3) float64 pinhole K with square pixels, horizontal field of view ``fov_deg`` degrees."""
    if not 1.0 <= fov_deg <= 170.0:
        raise ValueError(f"field of view {fov_deg} deg is out of range; use 1..170 degrees")
    fx = 0.5 * width / math.tan(math.radians(fov_deg) / 2.0)
    return np.array([[fx, 0.0, width / 2.0], [0.0, fx, height / 2.0], [0.0, 0.0, 1.0]])


def scale_intrinsics(K: np.ndarray, from_size: tuple[int, int], to_size: tuple[int, int]) -> np.ndarray:
    """K for the same field of view at another resolution; sizes are (H, W) pixels."""
    sy = to_size[0] / from_size[0]
    sx = to_size[1] / from_size[1]
    out = np.array(K, dtype=np.float64)
    out[0] *= sx
    out[1] *= sy
    out[2] = [0.0, 0.0, 1.0]
    return out


def rotation_x(deg: float) -> np.ndarray:
    """(3, 3) rotation about the x axis by ``deg`` degrees (positive tilts +z toward -y: up in OpenCV)."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rotation_y(deg: float) -> np.ndarray:
    """(3, 3) rotation about the y axis by ``deg`` degrees (positive turns +z toward +x: right)."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rotation_homography(K: np.ndarray, from_rotation: np.ndarray, to_rotation: np.ndarray) -> np.ndarray:
    """(3, 3) float64 pixel map between two cameras at one centre with the same ``K``: a pixel (u, v, 1) of the
    camera whose axes in the world are ``from_rotation`` (3, 3) lands at ``H @ (u, v, 1)`` (up to scale) in the
    camera with ``to_rotation``. Pixel coordinates as ``K``'s (centres at +0.5)."""
    K = np.asarray(K, dtype=np.float64)
    return K @ np.asarray(to_rotation, np.float64).T @ np.asarray(from_rotation, np.float64) @ np.linalg.inv(K)


def make_pose(rotation: np.ndarray, position: np.ndarray) -> np.ndarray:
    """(4, 4) cam_to_world from a (3, 3) rotation (camera axes in world) and a (3,) position in metres."""
    pose = np.eye(4)
    pose[:3, :3] = rotation
    pose[:3, 3] = position
    return pose


def yaw_pitch_pose(position: np.ndarray, yaw_deg: float, pitch_deg: float = 0.0) -> np.ndarray:
    """Pose at ``position`` turned ``yaw_deg`` right about world -y (up) then tilted ``pitch_deg`` up.

    Zero yaw and pitch looks along world +z like the first view; the horizon stays level (no roll).
    """
    rot = rotation_y(yaw_deg) @ rotation_x(pitch_deg)
    return make_pose(rot, np.asarray(position, dtype=np.float64))


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray = np.array([0.0, -1.0, 0.0])) -> np.ndarray:
    """(4, 4) cam_to_world at ``eye`` looking at ``target`` (OpenCV axes; world up defaults to -y)."""
    eye = np.asarray(eye, dtype=np.float64)
    z = np.asarray(target, dtype=np.float64) - eye
    norm = np.linalg.norm(z)
    if norm == 0:
        raise ValueError("look_at needs a target different from the eye position")
    z /= norm
    x = np.cross(-np.asarray(up, dtype=np.float64), z)  # camera y points down, i.e. along -up
    if np.linalg.norm(x) < 1e-9:
        raise ValueError("look_at: viewing direction is parallel to the up vector; choose another target")
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return make_pose(np.stack([x, y, z], axis=1), eye)


def world_to_export(cam_to_world: np.ndarray) -> np.ndarray:
    """Pose in the export world (y up, first view looking along -z) with OpenGL camera axes."""
    return CV_TO_GL @ np.asarray(cam_to_world, dtype=np.float64) @ CV_TO_GL
