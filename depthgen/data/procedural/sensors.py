"""Sensor models that turn clean z-depth into realistic, incomplete measurements.

- ``kinect``: a structured-light camera (NYU-style). Holes at grazing angles, on the far side of depth edges
  (projector shadow), on glass / mirrors / screens / water, on very dark surfaces and beyond the maximum range;
  axial noise growing with depth squared and disparity quantisation (1/8 px of a 580 px, 7.5 cm baseline rig).
  Outdoors (sunlight blinds structured light) the lidar model is used instead.
- ``lidar``: a spinning scanner (KITTI-style): sparse scan lines at fixed elevation angles, a column subsample
  per line, sky and glass invalid, small range noise.
Holes are 0. Every other pixel stays within the stated noise of the clean depth.
"""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.materials import NO_RETURN

SENSORS = ("kinect", "lidar")
KINECT_FB = 580.0 * 0.075  # focal length (px at 640 wide) x baseline (m)


def kinect_sigma(z: np.ndarray) -> np.ndarray:
    """Axial noise std (m) of a Kinect at depth z (Nguyen et al. 2012)."""
    return 0.0012 + 0.0019 * (z - 0.4) ** 2


def _edge_holes(depth: np.ndarray, valid: np.ndarray, normal_cam: np.ndarray, K: np.ndarray, width: int,
                rng: np.random.Generator) -> np.ndarray:
    """Pixels on the far side of a depth discontinuity, widened by up to ``width`` px, mostly to the left of
    the nearer surface (the projector sits to the right of the camera).

    A neighbour is across a discontinuity when it is nearer (by > 4 %) than the pixel's own surface plane
    predicts along the neighbour's ray, so smooth slanted surfaces (floors at low resolution) are not edges.
    With rays r = ((u - cx) / fx, (v - cy) / fy, 1), the plane through P = z r with normal n predicts depth
    (n . P) / (n . r') along the neighbour ray r' = r + (dx / fx, dy / fy, 0)."""
    h, w = depth.shape
    rx = (np.arange(w) + 0.5 - K[0, 2]) / K[0, 0]
    ry = (np.arange(h) + 0.5 - K[1, 2]) / K[1, 1]
    n0, n1, n2 = normal_cam[..., 0], normal_cam[..., 1], normal_cam[..., 2]
    nr = n0 * rx[None] + n1 * ry[:, None] + n2
    plane = nr * depth
    d = np.where(valid, depth, np.inf)
    holes = np.zeros((h, w), bool)
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        denom = nr + n0 * (dx / K[0, 0]) + n1 * (dy / K[1, 1])
        with np.errstate(divide="ignore", invalid="ignore"):
            pred = np.where(np.abs(denom) > 1e-6, plane / denom, np.inf)  # both < 0 for camera-facing normals
        pred = np.where(pred > 0, pred, np.inf)
        ys = slice(max(0, -dy), h - max(0, dy))
        xs = slice(max(0, -dx), w - max(0, dx))
        ysn = slice(max(0, dy), h - max(0, -dy))
        xsn = slice(max(0, dx), w - max(0, -dx))
        nb = d[ysn, xsn]
        holes[ys, xs] |= valid[ys, xs] & (nb < 0.96 * np.minimum(pred[ys, xs], depth[ys, xs]))
    grow = holes.copy()
    for k in range(1, width + 1):
        grow[:, :-k] |= holes[:, k:] & (rng.random((h, w - k)) < 0.8)
    if width >= 1:
        grow[:, 1:] |= holes[:, :-1] & (rng.random((h, w - 1)) < 0.3)
    return grow & valid


def kinect(depth: np.ndarray, valid: np.ndarray, normal_cam: np.ndarray, material_id: np.ndarray,
           albedo: np.ndarray, K: np.ndarray, rng: np.random.Generator, max_range: float | None = None) -> np.ndarray:
    """(H, W) float32 sensor depth (0 = hole) from clean z-depth (H, W) m, validity, camera-frame normals
    (H, W, 3), material ids (H, W), linear albedo (H, W, 3) and K."""
    h, w = depth.shape
    max_range = max_range if max_range is not None else rng.uniform(6.0, 10.0)
    rx = ((np.arange(w) + 0.5 - K[0, 2]) / K[0, 0]).astype(np.float32)
    ry = ((np.arange(h) + 0.5 - K[1, 2]) / K[1, 1]).astype(np.float32)
    nr = normal_cam[..., 0] * rx[None] + normal_cam[..., 1] * ry[:, None] + normal_cam[..., 2]
    cos = np.abs(nr) / np.sqrt(rx[None] ** 2 + ry[:, None] ** 2 + 1)
    ok = valid & (depth > 0.45) & (depth < max_range)
    ok &= rng.random((h, w), np.float32) > np.clip((0.22 - cos) / 0.12, 0.0, 1.0)  # grazing angles
    mat = np.clip(material_id, 0, None)
    ok &= ~(NO_RETURN[mat] & (material_id >= 0))
    lum = albedo @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    ok &= ~((lum < 0.01) & (rng.random((h, w), np.float32) < 0.7))  # very dark surfaces absorb the pattern
    ok &= ~_edge_holes(depth, valid, normal_cam, K, max(1, int(round(w / 160))), rng)
    ok &= rng.random((h, w), np.float32) > 0.01  # speckle dropout
    z = depth.astype(np.float64) + rng.standard_normal((h, w), np.float32) * kinect_sigma(depth)
    disp = np.round(KINECT_FB * 8.0 / np.maximum(z, 0.3))  # 1/8 px disparity steps
    zq = KINECT_FB * 8.0 / np.maximum(disp, 1.0)
    return np.where(ok, zq, 0.0).astype(np.float32)


def kinect_tolerance(z: np.ndarray) -> np.ndarray:
    """A bound on |sensor - clean| for valid Kinect pixels: 5 sigma of noise + one quantisation step."""
    z = np.asarray(z, np.float64)
    return 5 * kinect_sigma(z) + z ** 2 / (KINECT_FB * 8.0 - z) + 1e-4


def lidar(depth: np.ndarray, valid: np.ndarray, material_id: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray,
          rng: np.random.Generator, max_range: float = 120.0) -> np.ndarray:
    """(H, W) float32 sparse sensor depth: one pixel row per scan line per column (lines at fixed elevation
    angles in the world), a random column subsample, range noise (sigma 2 cm)."""
    h, w = depth.shape
    v, u = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    d_cam = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    d_w = d_cam @ cam_to_world[:3, :3].T
    elev = np.arctan2(d_w[..., 2], np.hypot(d_w[..., 0], d_w[..., 1]))  # (H, W) radians
    pix = np.abs(elev[1:] - elev[:-1]).mean() if h > 1 else 0.01
    # About one scan line every 3-5 pixel rows (KITTI's 64 lines cover ~1/4 of its rows at 375 px).
    spacing = pix * rng.uniform(3.0, 5.0)
    phase = rng.uniform(0, spacing)
    line = (elev - phase) / spacing
    frac = np.abs(line - np.round(line))
    nearest = frac * spacing <= pix / 2  # the line passes within half a pixel row
    keep = nearest & (rng.random((h, w)) < rng.uniform(0.5, 0.8))
    mat = np.clip(material_id, 0, None)
    keep &= valid & (depth < max_range) & ~(NO_RETURN[mat] & (material_id >= 0) & (rng.random((h, w)) < 0.9))
    z = depth + rng.normal(0.0, 0.02, (h, w))
    return np.where(keep, np.maximum(z, 0.01), 0.0).astype(np.float32)


def simulate(sensor: str | None, view: dict, rng: np.random.Generator) -> np.ndarray:
    """Sensor depth for a rendered view (see ``render.render_clean``); None returns the clean depth."""
    if sensor is None:
        return view["depth"].copy()
    if sensor not in SENSORS:
        raise ValueError(f"sensor must be one of {SENSORS} or None, got {sensor!r}")
    if sensor == "lidar" or view["outdoor"]:
        return lidar(view["depth"], view["valid"], view["material_id"], view["K"], view["cam_to_world"], rng)
    return kinect(view["depth"], view["valid"], view["normal"], view["material_id"], view["albedo"], view["K"], rng)
