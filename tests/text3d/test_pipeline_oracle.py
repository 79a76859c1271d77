"""The per-view loop with oracle backends on a known room: the fused mesh must match the room.

The oracle paints, inpaints and completes depth with ground truth rendered at the pose being generated
(the test tells it the pose), so any error left comes from the loop itself: rendering, hole masks,
completion that keeps known pixels, the free-space clamp, lifting and merging.
"""

from __future__ import annotations

import numpy as np
import pytest

from text3d.backends.loading import Backends
from text3d.backends.protocols import DepthResult, ImageResult
from text3d.config import Text3DConfig, TrajectoryConfig
from text3d.geometry.cameras import intrinsics_from_fov, yaw_pitch_pose
from text3d.geometry.mesh import Mesh, concat_meshes
from text3d.geometry.render import Raycaster
from text3d.run.camera import Camera
from text3d.run.cleanup import candidate_poses, hole_scores, pick_cleanup_views
from text3d.run.manifest import Timings
from text3d.run.scene import SceneBuilder
from text3d.run.trajectory import build_views, resolve_trajectory
from text3d.run.views import ViewPainter


def _box(lo, hi, colors, inward):
    """12 triangles of an axis-aligned box; faces point inward (a room) or outward (an object)."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]  # -x +x -y +y -z +z
    verts, faces, cols = [], [], []
    for q, c in zip(quads, colors):
        base = len(verts)
        verts += [corners[i] for i in q]
        cols += [c] * 4
        tri = [[0, 1, 2], [0, 2, 3]] if not inward else [[0, 2, 1], [0, 3, 2]]
        faces += [[base + a, base + b, base + d] for a, b, d in tri]
    return Mesh(np.array(verts), np.array(faces), np.array(cols, float))


def room() -> Mesh:
    palette = [[0.8, 0.2, 0.2], [0.2, 0.8, 0.2], [0.9, 0.9, 0.9], [0.5, 0.35, 0.2], [0.2, 0.2, 0.8], [0.8, 0.8, 0.2]]
    walls = _box([-2.5, -1.5, -2.5], [2.5, 1.2, 3.0], palette, inward=True)            # y down: floor at +1.2
    cube = _box([0.3, 0.4, 1.2], [1.0, 1.2, 1.9], [[0.1, 0.6, 0.6]] * 6, inward=False)
    return concat_meshes([walls, cube])


class Oracle:
    """All three backends at once, answering with ground truth at ``self.pose``."""

    name = "oracle"

    def __init__(self, mesh: Mesh, K: np.ndarray):
        self.caster, self.K, self.pose = Raycaster(mesh), K, np.eye(4)

    def _gt(self, h, w):
        return self.caster.render(self.K, self.pose, h, w)

    def generate(self, prompt, *, height, width, steps, generator):
        return ImageResult(self._gt(height, width).image)

    def inpaint(self, image, mask, *, prompt, steps, generator):
        return np.where(mask[..., None], self._gt(*mask.shape).image, image)

    def predict(self, image, *, steps, samples, generator):
        gt = self._gt(*image.shape[:2])
        return DepthResult(gt.depth, np.zeros_like(gt.depth))

    def complete(self, image, known_depth, known_mask, *, steps, samples, generator):
        gt = self._gt(*image.shape[:2])
        return DepthResult(np.where(known_mask, known_depth, gt.depth).astype(np.float32), np.zeros_like(gt.depth))


def run_loop(truth: Mesh, K: np.ndarray, size: int, start: np.ndarray, trajectory: str):
    """First view at ``start``, 8 trajectory views (relative to it) and the clean-up pass, all by the oracle.

    Returns the builder, the trajectory specs, the median first-view depth, and the clean-up candidates'
    hole fractions before and after the clean-up views.
    """
    cfg = Text3DConfig(height=size, width=size)
    oracle = Oracle(truth, K)
    oracle.pose = start
    camera, timings = Camera.from_K(K, size, size), Timings()
    painter = ViewPainter(cfg, Backends(oracle, oracle, oracle), camera, seed=0, timings=timings)
    builder = SceneBuilder(cfg, camera, painter, timings)
    builder.add_first(oracle.generate("", height=size, width=size, steps=1, generator=None).image, "room", start)
    first = builder.views[0].depth
    scene_depth = float(np.median(first[first > 0]))
    specs = build_views(resolve_trajectory(trajectory, 8), TrajectoryConfig(), "room", scene_depth)
    for spec in specs:
        spec.cam_to_world = start @ spec.cam_to_world
    for spec in specs[1:]:
        oracle.pose = spec.cam_to_world
        builder.add_view(spec)
    candidates = [p for p, _ in candidate_poses(specs, cfg.cleanup, scene_depth)]
    before = hole_scores(builder.raycaster(), K, (size, size), candidates, 32)
    extra, fractions = pick_cleanup_views(builder.raycaster(), K, (size, size), specs, cfg.cleanup, scene_depth)
    assert len(extra) == cfg.cleanup.views and fractions[0] == before.max()
    for spec in extra:
        oracle.pose = spec.cam_to_world
        builder.add_view(spec)
    after = hole_scores(builder.raycaster(), K, (size, size), candidates, 32)
    return builder, specs, scene_depth, before, after


def compare(mesh: Mesh, truth: Mesh, K: np.ndarray, size: int, poses) -> tuple[np.ndarray, list[float]]:
    """Relative depth errors where both meshes are seen, and per pose the share of true surface covered."""
    ours_caster, gt_caster = Raycaster(mesh), Raycaster(truth)
    errs, covered = [], []
    for pose in poses:
        ours, gt = ours_caster.render(K, pose, size, size), gt_caster.render(K, pose, size, size)
        both = ours.hit & gt.hit
        errs.append(np.abs(ours.depth[both] - gt.depth[both]) / gt.depth[both])
        covered.append(both.sum() / max(gt.hit.sum(), 1))
    return np.concatenate(errs), covered


# novel poses between the generated ones and off the path (level: a level 8-view trajectory with 2
# clean-up views does not see all of the floor)
ORBIT_CHECKS = [yaw_pitch_pose(np.array([0.15, 0.0, 0.1]), yaw, 0.0) for yaw in (22.5, 112.5, 202.5, 292.5)]
WALK_CHECKS = [yaw_pitch_pose(np.array([x, -0.1, z]), yaw, 0.0) for x, z, yaw in
               ((0.1, 0.2, -10.0), (-0.1, 0.5, 8.0), (0.05, 0.8, 12.0))]


@pytest.mark.parametrize("trajectory, checks, min_cover", [("orbit", ORBIT_CHECKS, 0.93), ("walk", WALK_CHECKS, 0.95)])
def test_oracle_loop_with_cleanup_rebuilds_the_room(trajectory, checks, min_cover):
    size = 48
    K = intrinsics_from_fov(60.0, size, size)
    truth = room()
    builder, _, _, before, after = run_loop(truth, K, size, np.eye(4), trajectory)
    assert after.max() < before.max() and after.mean() < before.mean()       # clean-up closed holes
    # consistent (true) depth never trips the free-space test
    assert all(v.free_space.get("pushed", 0) == 0 and v.free_space.get("dropped", 0) == 0 for v in builder.views)
    err, covered = compare(builder.mesh, truth, K, size, checks)
    assert np.median(err) < 0.005            # surfaces where they should be
    assert np.mean(err < 0.05) > 0.97        # few stray triangles (edges of the cube)
    assert min(covered) > min_cover          # and closed, seen from nearby novel views


def test_oracle_walk_through_a_procedural_office():
    """The same loop inside a procedural scene (depthgen.data.procedural), from its own camera."""
    try:
        from depthgen.data.procedural import build_scene, generate_sample
    except ImportError as e:
        pytest.skip(f"depthgen.data.procedural is not available ({e})")
    size = 48
    sample = generate_sample(4, size=(size, size), sensor=None)
    truth = Mesh(*build_scene(4).mesh())
    K = np.asarray(sample["K"], dtype=np.float64)
    builder, specs, depth, before, after = run_loop(truth, K, size, sample["cam_to_world"], "walk")
    assert after.mean() < before.mean()
    # checks halfway between consecutive trajectory poses, stepped sideways by 5% of the scene depth
    from scipy.spatial.transform import Rotation, Slerp

    checks = []
    for a, b in zip(specs[:-1], specs[1:]):
        rot = Slerp([0, 1], Rotation.from_matrix([a.cam_to_world[:3, :3], b.cam_to_world[:3, :3]]))(0.5).as_matrix()
        pose = np.eye(4)
        pose[:3, :3] = rot
        pose[:3, 3] = (a.cam_to_world[:3, 3] + b.cam_to_world[:3, 3]) / 2 + rot[:, 0] * 0.05 * depth
        checks.append(pose)
    err, covered = compare(builder.mesh, truth, K, size, checks)
    # the pixels off by more than 5% lie on thin furniture (legs, frames, plants) that a 48 px depth-map
    # mesh cannot hold exactly from a new viewpoint; measured: median 0, 95% within 5%, coverage >= 0.96
    assert np.median(err) < 1e-3 and np.mean(err < 0.05) > 0.9
    assert min(covered) > 0.93
