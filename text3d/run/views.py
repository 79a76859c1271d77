"""Filling a view: the one place where a run calls its models.

``ViewPainter`` paints the first view (text-to-image), predicts its depth, and fills the holes of every later
view rendered from the mesh: inpainting of the uncovered pixels, then depth completion that keeps the rendered
depth. Without the super-resolution cascade the models work at the view size. With it (``cfg.sr``,
``text3d.run.upscale``) they work at the base size (view size / ``sr.scale``): the mesh is rendered again at the
base size, a base pixel is a hole when any view pixel it covers is, the paint is super-resolved and composed
(``compose_view``) so that every pixel rendered from the mesh stays exact, and the depth is upsampled with the
view as the guide.

Every model call takes its own generator (``text3d.run.seeds.view_generator``) and what the backend declares
it takes (``text3d.backends.protocols.Capabilities``): the inpainting model the view's tilt from level
(``layout_transform``), the depth model the run's field of view (``fov``).

Two ways to complete depth (``depth_completion``):
- ``complete``: the depth model's completion; the rendered depth is passed as known and kept exactly.
- ``align``: predict full depth, then least-squares scale and shift to the rendered pixels (the baseline of
  Text2Room-style pipelines), via ``depthgen.evaluation.align.align_scale_shift``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from depthgen.evaluation.align import align_scale_shift
from text3d.backends.loading import Backends
from text3d.backends.protocols import DepthBackend, DepthResult, ImageResult, capabilities_of
from text3d.config import Text3DConfig, base_size, inpaint_options
from text3d.geometry.render import RenderResult
from text3d.run.camera import Camera
from text3d.run.manifest import Timings
from text3d.run.seeds import Role, view_generator
from text3d.run.trajectory import ViewSpec, level_view_homography
from text3d.run.upscale import compose_view, lowres_holes, make_upscaler

COMPLETION_MODES = ("complete", "align")
MIN_ALIGN_PIXELS = 16  # fewer known pixels than this: alignment keeps the plain prediction

RenderFn = Callable[[np.ndarray, np.ndarray, int, int], RenderResult]  # (K, cam_to_world, height, width)
StepFn = Callable[[float], None]  # the fraction of the view done


def checked(array: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """``array`` as float32, or a RuntimeError naming ``what`` when its shape is not ``shape``."""
    array = np.asarray(array, dtype=np.float32)
    if array.shape != shape:
        raise RuntimeError(f"{what} returned shape {array.shape}, expected {shape}")
    return array


def complete_depth(backend: DepthBackend, image: np.ndarray, known_depth: np.ndarray, known_mask: np.ndarray, *,
                   mode: str, steps: int, samples: int, generator, **options: Any) -> DepthResult:
    """Depth (H, W) float32 metres for ``image`` (H, W, 3) that equals ``known_depth`` on ``known_mask``.

    With no known pixel this is plain prediction. Uncertainty is 0 on known pixels. ``options``: further
    keywords of the backend's calls (``fov_deg`` for a backend that declares ``fov``).
    """
    if mode not in COMPLETION_MODES:
        raise ValueError(f"depth_completion must be one of {COMPLETION_MODES}, got {mode!r}")
    known_mask = np.asarray(known_mask, dtype=bool)
    known_depth = np.asarray(known_depth, dtype=np.float32)
    call = dict(steps=steps, samples=samples, generator=generator, **options)
    if not known_mask.any():
        res = backend.predict(image, **call)
    elif mode == "complete":
        res = backend.complete(image, known_depth, known_mask, **call)
    else:
        pred = backend.predict(image, **call)
        if known_mask.sum() < MIN_ALIGN_PIXELS:
            res = pred
        else:
            aligned, scale, shift = align_scale_shift(pred.depth, known_depth, known_mask)
            scale, shift = float(scale), float(shift)
            samples_arr = None if pred.samples is None else pred.samples * scale + shift
            res = DepthResult(np.asarray(aligned, np.float32),
                              np.abs(scale) * np.asarray(pred.uncertainty, np.float32), samples_arr)
    depth = np.asarray(res.depth, dtype=np.float32).copy()
    depth[known_mask] = known_depth[known_mask]
    unc = np.asarray(res.uncertainty, dtype=np.float32).copy()
    unc[known_mask] = 0.0
    return DepthResult(depth, unc, res.samples)


class ViewPainter:
    """The models of a run at work: paint the first view, predict its depth, fill a rendered view's holes.

    cfg: the run's settings (steps, samples, depth completion, inpainting options, ``sr``); camera: the run's
    camera at the view size; seed: the run's seed; timings: where model time is recorded (``t2i``, ``inpaint``,
    ``depth``, ``upscale``, and ``render`` for the base-size renders of the cascade).
    """

    def __init__(self, cfg: Text3DConfig, backends: Backends, camera: Camera, seed: int, timings: Timings):
        self.cfg, self.backends, self.camera, self.seed, self.timings = cfg, backends, camera, seed, timings
        self.base = base_size(cfg)  # (h, w) the models work at
        self.upscaler = make_upscaler(cfg, backends)  # None unless the super-resolution cascade is on (cfg.sr)
        self._depth_options = {"fov_deg": camera.fov_deg} if capabilities_of(backends.depth).fov else {}
        self._tilt = capabilities_of(backends.inpaint).layout_transform
        # image models that paint the view's pixels themselves skip the cascade's base size and super-resolution
        self._t2i_full = self.upscaler is not None and capabilities_of(backends.t2i).full_resolution
        self._inpaint_full = self.upscaler is not None and capabilities_of(backends.inpaint).full_resolution
        strength = cfg.t2i_layout_strength  # checked against the backend before the run starts
        self._t2i_options = {} if strength is None else {"layout_strength": strength}

    def _generator(self, index: int, role: Role):
        return view_generator(self.seed, index, role)

    def first_image(self, prompt: str) -> ImageResult:
        """Paint the first view: (H, W, 3) float32 [0, 1] at the view size (painted at the base size and
        super-resolved when the cascade is on, unless the model paints full-resolution pixels), with what the
        backend reports of how it painted it."""
        h, w = self.camera.size if self._t2i_full else self.base
        t2i = self.backends.t2i
        with self.timings("t2i"):
            painted = t2i.generate(prompt, height=h, width=w, steps=self.cfg.steps.t2i,
                                   generator=self._generator(0, Role.T2I), **self._t2i_options)
        image = np.clip(checked(painted.image, (h, w, 3), f"text-to-image backend {t2i.name!r}"), 0, 1)
        if self.upscaler is not None and not self._t2i_full:
            with self.timings("upscale"):
                image = self.upscaler.image(image, self._generator(0, Role.UPSCALE))
        return ImageResult(image, painted.info)

    def first_depth(self, image: np.ndarray) -> DepthResult:
        """Depth (H, W) float32 metres and its uncertainty of the first view ``image`` (H, W, 3), predicted
        whole (from the block means at the base size when the cascade is on, then upsampled)."""
        depth_model, size = self.backends.depth, self.camera.size
        what = f"depth backend {depth_model.name!r}"
        low = image if self.upscaler is None else self.upscaler.lowres(image)  # the depth model's input
        with self.timings("depth"):
            res = depth_model.predict(low, steps=self.cfg.steps.depth, samples=self.cfg.depth_samples,
                                      generator=self._generator(0, Role.DEPTH), **self._depth_options)
        if self.upscaler is not None:
            checked(res.depth, low.shape[:2], what)
            with self.timings("upscale"):
                res = self.upscaler.depth(res, image, low)
        return DepthResult(checked(res.depth, size, what), checked(res.uncertainty, size, "depth uncertainty"),
                           res.samples)

    def fill(self, index: int, spec: ViewSpec, rendered: RenderResult, render: RenderFn,
             step: StepFn) -> tuple[np.ndarray, DepthResult]:
        """Fill the holes of view ``index``, rendered from the mesh at the view size (``rendered``).

        render: the mesh's renderer (for the base-size render of the cascade); step: reports the fraction done.
        Returns the view (H, W, 3) float32 and its depth (at the view size; rendered pixels keep their depth).
        """
        if self.upscaler is None:
            image = self._inpaint(index, spec, rendered.image, rendered.holes, self.camera.K)
            step(0.4)
            res = self._complete(index, image, rendered.depth, rendered.hit, self.camera.size)
        else:
            image, res = self._fill_through_cascade(index, spec, rendered, render, step)
        step(0.8)
        return image, res

    def _fill_through_cascade(self, index: int, spec: ViewSpec, rendered: RenderResult, render: RenderFn,
                              step: StepFn) -> tuple[np.ndarray, DepthResult]:
        """Inpainting and depth completion at the base size, then super-resolution of the paint (composed with
        the rendered pixels) and guided upsampling of the depth (rendered depth kept exactly). An inpainting model
        that paints full-resolution pixels fills the view-size holes itself; its paint's block means are the
        base-size image the depth is completed from."""
        up, (h, w) = self.upscaler, self.base
        holes = rendered.holes
        K_lr = self.camera.K_at((h, w))
        with self.timings("render"):
            low = render(K_lr, spec.cam_to_world, h, w)
        holes_lr = lowres_holes(holes, up.scale) | ~low.hit
        if self._inpaint_full:
            image = self._inpaint(index, spec, rendered.image, holes, self.camera.K)
            image_lr = np.where(holes_lr[..., None], up.lowres(image), low.image).astype(np.float32)
        else:
            image_lr = self._inpaint(index, spec, low.image, holes_lr, K_lr)
            with self.timings("upscale"):
                painted = up.image(image_lr, self._generator(index, Role.UPSCALE))
                image = compose_view(rendered.image, holes, painted, self.cfg.sr.blend_band)
        step(0.4)
        res = self._complete(index, image_lr, low.depth, ~holes_lr & low.hit, (h, w))
        with self.timings("upscale"):
            res = up.depth(res, image, image_lr, known_depth=rendered.depth, known_mask=rendered.hit)
        checked(res.depth, self.camera.size, f"depth backend {self.backends.depth.name!r}")
        return image, res

    def _inpaint(self, index: int, spec: ViewSpec, image: np.ndarray, holes: np.ndarray,
                 K: np.ndarray) -> np.ndarray:
        """``image`` (h, w, 3) with its ``holes`` (h, w) painted for the view's prompt. The preset's options
        (``inpaint_options``) and, for a backend that starts new content from a level picture of the scene,
        the (3, 3) pixel map from the level camera to the view (``level_view_homography``; ``K`` at this
        size), so that a view tilted down starts from floor and one tilted up from ceiling or sky."""
        options: dict[str, Any] = inpaint_options(self.cfg)
        if self._tilt:
            options["layout_transform"] = level_view_homography(K, spec.cam_to_world)
        inpaint = self.backends.inpaint
        with self.timings("inpaint"):
            painted = inpaint.inpaint(image, holes, prompt=spec.prompt, steps=self.cfg.steps.inpaint,
                                      generator=self._generator(index, Role.INPAINT), **options)
        painted = checked(painted, image.shape, f"inpaint backend {inpaint.name!r}")
        return np.where(holes[..., None], np.clip(painted, 0, 1), image).astype(np.float32)

    def _complete(self, index: int, image: np.ndarray, known_depth: np.ndarray, known_mask: np.ndarray,
                  size: tuple[int, int]) -> DepthResult:
        """``complete_depth`` of ``image`` with the run's settings; its depth checked to be ``size`` (h, w)."""
        with self.timings("depth"):
            res = complete_depth(self.backends.depth, image, known_depth, known_mask, mode=self.cfg.depth_completion,
                                 steps=self.cfg.steps.depth, samples=self.cfg.depth_samples,
                                 generator=self._generator(index, Role.DEPTH), **self._depth_options)
        checked(res.depth, size, f"depth backend {self.backends.depth.name!r}")
        return res
