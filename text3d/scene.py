"""The incremental scene: the first view lifted whole, then per new pose render -> inpaint -> complete depth ->
free-space clamp -> lift new pixels -> merge (DepthGen paper, Sec. text-to-3D; Text2Room-style loop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from text3d.backends.protocols import DepthResult
from text3d.config import Text3DConfig, base_size
from text3d.inpaint_call import view_inpaint_options
from text3d.lift import ViewDepth, cap_filled_depth, clamp_free_space, fill_depth, lift_new_pixels
from text3d.loading import Backends
from text3d.manifest import Timings
from text3d.masks import near_depth
from text3d.mesh import Mesh, concat_meshes
from text3d.render import Raycaster
from text3d.trajectory import ViewSpec
from text3d.upscale import fill_view, make_upscaler

ROLE_T2I, ROLE_INPAINT, ROLE_DEPTH, ROLE_UPSCALE = 0, 1, 2, 3


def make_generator(seed: int, index: int, role: int):
    """A CPU ``torch.Generator`` for one random draw site (view ``index``, model ``role``), derived from ``seed``.

    Separate streams per site keep a run reproducible even if one backend consumes more or fewer numbers.
    """
    import torch

    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(index), int(role)]).generate_state(2, np.uint32)
    return torch.Generator("cpu").manual_seed(int(state[0]) << 32 | int(state[1]))


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
    """Grows a mesh view by view; holds the views and what the free-space test needs of them."""

    def __init__(self, cfg: Text3DConfig, backends: Backends, K: np.ndarray, seed: int, timings: Timings):
        self.cfg, self.backends, self.K, self.seed, self.timings = cfg, backends, K, seed, timings
        self.size = (cfg.height, cfg.width)
        self.pieces: list[Mesh] = []
        self.views: list[ViewRecord] = []
        self._prior: list[ViewDepth] = []
        self._mesh: Mesh | None = None
        self._caster: Raycaster | None = None
        self.upscaler = make_upscaler(cfg, backends)  # None unless the super-resolution cascade is on (cfg.sr)

    @property
    def mesh(self) -> Mesh:
        """All pieces so far, concatenated (not yet cleaned)."""
        if self._mesh is None:
            self._mesh = concat_meshes(self.pieces)
        return self._mesh

    def raycaster(self) -> Raycaster:
        if self._caster is None:
            self._caster = Raycaster(self.mesh)
        return self._caster

    def _check(self, array: np.ndarray, shape: tuple, what: str) -> np.ndarray:
        array = np.asarray(array, dtype=np.float32)
        if array.shape != shape:
            raise RuntimeError(f"{what} returned shape {array.shape}, expected {shape}")
        return array

    def _add(self, record: ViewRecord, piece: Mesh) -> ViewRecord:
        record.new_faces = piece.n_faces
        if piece.n_faces:
            self.pieces.append(piece)
            self._mesh, self._caster = None, None
        self.views.append(record)
        self._prior.append(ViewDepth(self.K, record.cam_to_world, near_depth(record.depth, 1)))
        return record

    def first_image(self, prompt: str) -> np.ndarray:
        """Paint the first view with the text-to-image backend: (H, W, 3) float32 [0, 1] (painted at the base
        size and super-resolved when ``cfg.sr`` is on)."""
        h, w = base_size(self.cfg)
        # checked against the backend by text3d.pipeline.generate before the run starts
        strength = self.cfg.t2i_layout_strength
        options = {} if strength is None else {"layout_strength": strength}
        with self.timings("t2i"):
            img = self.backends.t2i.generate(prompt, height=h, width=w, steps=self.cfg.steps.t2i,
                                             generator=make_generator(self.seed, 0, ROLE_T2I), **options)
        img = np.clip(self._check(img, (h, w, 3), f"text-to-image backend {self.backends.t2i.name!r}"), 0, 1)
        if self.upscaler is not None:
            with self.timings("upscale"):
                img = self.upscaler.image(img, make_generator(self.seed, 0, ROLE_UPSCALE))
        return img

    def add_first(self, image: np.ndarray, prompt: str, cam_to_world: np.ndarray) -> ViewRecord:
        """Predict the first view's depth and lift all of it."""
        h, w = self.size
        low = image if self.upscaler is None else self.upscaler.lowres(image)  # the depth model's input
        with self.timings("depth"):
            res = self.backends.depth.predict(low, steps=self.cfg.steps.depth, samples=self.cfg.depth_samples,
                                              generator=make_generator(self.seed, 0, ROLE_DEPTH))
        if self.upscaler is not None:
            self._check(res.depth, low.shape[:2], f"depth backend {self.backends.depth.name!r}")
            with self.timings("upscale"):
                res = self.upscaler.depth(res, image, low)
        depth = self._check(res.depth, (h, w), f"depth backend {self.backends.depth.name!r}")
        with self.timings("lift"):
            piece, _ = lift_new_pixels(depth, image, self.K, cam_to_world, None, dilation=0,
                                       max_grazing_deg=self.cfg.lift.max_grazing_deg,
                                       stride=self.cfg.lift.mesh_stride)
        record = ViewRecord(0, "first", prompt, np.asarray(cam_to_world, np.float64), image, depth,
                            self._check(res.uncertainty, (h, w), "depth uncertainty"),
                            np.ones((h, w), bool), 1.0)
        return self._add(record, piece)

    def add_view(self, spec: ViewSpec, on_step: Callable[[float], None] | None = None) -> ViewRecord:
        """Render the mesh from ``spec``, fill its holes (inpaint + depth), lift the new pixels, merge them."""
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
        if self.upscaler is not None:  # base models at the base size, then super-resolution (text3d.upscale)
            image, res = fill_view(self, spec, rendered, lambda role: make_generator(self.seed, index, role), step)
        else:
            # checked against the backend by text3d.pipeline.generate before the run starts
            options = view_inpaint_options(cfg, self.backends.inpaint, self.K, spec.cam_to_world)
            with self.timings("inpaint"):
                painted = self.backends.inpaint.inpaint(rendered.image, holes, prompt=spec.prompt,
                                                        steps=cfg.steps.inpaint, **options,
                                                        generator=make_generator(self.seed, index, ROLE_INPAINT))
            painted = self._check(painted, (h, w, 3), f"inpaint backend {self.backends.inpaint.name!r}")
            image = np.where(holes[..., None], np.clip(painted, 0, 1), rendered.image).astype(np.float32)
            step(0.4)
            with self.timings("depth"):
                res: DepthResult = fill_depth(self.backends.depth, image, rendered.depth, rendered.hit,
                                              mode=cfg.depth_fill, steps=cfg.steps.depth, samples=cfg.depth_samples,
                                              generator=make_generator(self.seed, index, ROLE_DEPTH))
            step(0.8)
        self._check(res.depth, (h, w), f"depth backend {self.backends.depth.name!r}")
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
