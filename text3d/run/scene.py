"""The incremental scene: the first view lifted whole, then per new pose render -> fill (inpaint, complete depth;
``text3d.run.views``) -> free-space clamp -> lift new pixels -> merge (DepthGen paper, Sec. text-to-3D;
Text2Room-style loop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from text3d.config import Text3DConfig
from text3d.geometry.lift import ViewDepth, cap_filled_depth, clamp_free_space, lift_new_pixels
from text3d.geometry.masks import near_depth
from text3d.geometry.mesh import Mesh, concat_meshes
from text3d.geometry.render import Raycaster
from text3d.run.camera import Camera
from text3d.run.manifest import Timings
from text3d.run.trajectory import ViewSpec
from text3d.run.views import ViewPainter


@dataclass
class ViewRecord:
    """One generated view. image (H, W, 3) float32 [0, 1]; depth (H, W) float32 metres (0 = none);
    uncertainty (H, W) float32 metres (0 on pixels rendered from the mesh); filled (H, W) bool pixels that
    were generated in this view (all of the first view); cam_to_world (4, 4) in the generation frame."""

    index: int
    kind: str
    prompt: str
    cam_to_world: np.ndarray
    image: np.ndarray
    depth: np.ndarray
    uncertainty: np.ndarray
    filled: np.ndarray
    hole_fraction: float
    new_faces: int = 0
    free_space: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {"index": self.index, "kind": self.kind, "prompt": self.prompt,
                "hole_fraction": round(self.hole_fraction, 5), "new_faces": self.new_faces,
                "free_space": self.free_space, "cam_to_world": np.round(self.cam_to_world, 8).tolist()}


class SceneBuilder:
    """Grows a mesh view by view; holds the views and what the free-space test needs of them.

    cfg: the run's settings (``lift``); camera: the run's camera (K at the view size); painter: the models
    (``ViewPainter``); timings: where ``render`` and ``lift`` time is recorded.
    """

    def __init__(self, cfg: Text3DConfig, camera: Camera, painter: ViewPainter, timings: Timings):
        self.cfg, self.camera, self.painter, self.timings = cfg, camera, painter, timings
        self.K, self.size = camera.K, camera.size
        self.pieces: list[Mesh] = []
        self.views: list[ViewRecord] = []
        self._prior: list[ViewDepth] = []
        self._mesh: Mesh | None = None
        self._caster: Raycaster | None = None

    @property
    def mesh(self) -> Mesh:
        """All pieces so far, concatenated (not yet cleaned)."""
        if self._mesh is None:
            self._mesh = concat_meshes(self.pieces)
        return self._mesh

    def raycaster(self) -> Raycaster:
        """A ray caster over the mesh so far (rebuilt after a view adds triangles)."""
        if self._caster is None:
            self._caster = Raycaster(self.mesh)
        return self._caster

    def _add(self, record: ViewRecord, piece: Mesh) -> ViewRecord:
        record.new_faces = piece.n_faces
        if piece.n_faces:
            self.pieces.append(piece)
            self._mesh, self._caster = None, None
        self.views.append(record)
        self._prior.append(ViewDepth(self.K, record.cam_to_world, near_depth(record.depth, 1)))
        return record

    def add_first(self, image: np.ndarray, prompt: str, cam_to_world: np.ndarray) -> ViewRecord:
        """Predict the first view's depth and lift all of it; image (H, W, 3) float32 [0, 1]."""
        h, w = self.size
        res = self.painter.first_depth(image)
        with self.timings("lift"):
            piece, _ = lift_new_pixels(res.depth, image, self.K, cam_to_world, None, dilation=0,
                                       max_grazing_deg=self.cfg.lift.max_grazing_deg,
                                       stride=self.cfg.lift.mesh_stride)
        record = ViewRecord(0, "first", prompt, np.asarray(cam_to_world, np.float64), image, res.depth,
                            res.uncertainty, np.ones((h, w), bool), 1.0)
        return self._add(record, piece)

    def add_view(self, spec: ViewSpec, on_step: Callable[[float], None] | None = None) -> ViewRecord:
        """Render the mesh from ``spec``, fill its holes (``ViewPainter.fill``), lift the new pixels, merge them."""
        cfg, (h, w), index = self.cfg, self.size, len(self.views)
        step = on_step or (lambda f: None)
        with self.timings("render"):
            rendered = self.raycaster().render(self.K, spec.cam_to_world, h, w)
        holes = rendered.holes
        fraction = float(holes.mean())
        record = ViewRecord(index, spec.kind, spec.prompt, np.asarray(spec.cam_to_world, np.float64),
                            rendered.image, rendered.depth, np.zeros((h, w), np.float32), holes, fraction)
        if holes.sum() < cfg.lift.min_hole_pixels:
            record.filled = np.zeros((h, w), bool)
            step(1.0)
            return self._add(record, Mesh.empty())
        image, res = self.painter.fill(index, spec, rendered, self.raycaster().render, step)
        with self.timings("lift"):
            depth = res.depth
            if cfg.lift.max_depth_ratio > 0:  # the first view's depth is predicted whole: the scene's extent
                depth = cap_filled_depth(depth, holes, cfg.lift.max_depth_ratio * float(self.views[0].depth.max()))
            depth, stats = clamp_free_space(depth, holes, self.K, spec.cam_to_world, self._prior,
                                            cfg.lift.free_space_margin, stride=cfg.lift.mesh_stride)
            piece, _ = lift_new_pixels(depth, image, self.K, spec.cam_to_world, holes,
                                       dilation=cfg.lift.hole_dilation, max_grazing_deg=cfg.lift.max_grazing_deg,
                                       stride=cfg.lift.mesh_stride)
        record.image, record.depth, record.uncertainty, record.free_space = image, depth, res.uncertainty, stats
        step(1.0)
        return self._add(record, piece)
