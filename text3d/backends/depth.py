"""Depth backends: ``DepthGenBackend`` (the default: ``depthgen.DepthGenPipeline``, which completes known depth
by guided sampling), and for real-world weights ``MarigoldDepthBackend`` (diffusers ``MarigoldDepthPipeline``,
which completes known depth by test-time guidance, ``text3d.backends.guided_depth``) and
``TransformersDepthBackend`` (a transformers ``depth-estimation`` model: DPT, Depth Anything, ...), which keeps
known depth by scale/shift alignment (``AlignedDepthBackend``). Every model sits on the run's device in
``text3d.backends.placement.model_dtype``.

The camera. ``DepthGenBackend.predict/complete`` take ``fov_deg`` (horizontal degrees; None = the
pipeline's default, depthgen.models.camera.DEFAULT_FOV_DEG) for camera-aware DepthGen models (canonical camera or
FOV conditioning); the shipped model ignores it. Its ``capabilities`` say so (``fov``, and ``camera_aware`` when
the loaded model uses it); the run passes its field of view to the backends that declare ``fov``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from text3d.backends.embedded import check_image
from text3d.backends.placement import load_pipeline, model_dtype
from text3d.backends.protocols import Capabilities, DepthResult


def check_known(image: np.ndarray, known_depth: np.ndarray,
                known_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The checked image (H, W, 3), known depth (H, W) float32 m, and the usable mask (H, W) bool: known and
    with finite positive depth. One line of error when the sizes differ."""
    image = check_image(image)
    hw = image.shape[:2]
    known_depth = np.asarray(known_depth, np.float32)
    if known_depth.shape != hw or np.shape(known_mask) != hw:
        raise ValueError(f"known_depth {known_depth.shape} and known_mask {np.shape(known_mask)} must match the image size {hw}")
    return image, known_depth, np.asarray(known_mask, bool) & np.isfinite(known_depth) & (known_depth > 0)


class DepthGenBackend:
    """``DepthBackend`` over a DepthGen pipeline folder (median over samples; std as uncertainty)."""

    def __init__(self, pipe, name: str = "embedded", scheduler: str = "ddim"):
        self.pipe, self.name, self.scheduler = pipe, name, scheduler

    @property
    def capabilities(self) -> Capabilities:
        """Takes ``fov_deg``; ``camera_aware`` when the model's output depends on it."""
        return Capabilities(fov=True, camera_aware=bool(self.pipe.uses_camera))

    @classmethod
    def from_path(cls, path: str | Path, device: str = "cpu", name: str | None = None) -> "DepthGenBackend":
        from depthgen.models.depth_pipeline import DepthGenPipeline

        return cls(load_pipeline(DepthGenPipeline, path, device), name or str(path))

    @staticmethod
    def _result(out) -> DepthResult:
        return DepthResult(depth=np.asarray(out.depth, np.float32), uncertainty=np.asarray(out.uncertainty, np.float32),
                           samples=np.asarray(out.samples, np.float32))

    def _camera(self, fov_deg: float | None) -> dict:
        return {} if fov_deg is None else {"fov_deg": float(fov_deg)}

    def predict(self, image: np.ndarray, *, steps: int, samples: int, generator: torch.Generator,
                fov_deg: float | None = None) -> DepthResult:
        """Depth (H, W) float32 metres of an (H, W, 3) float32 image taken with horizontal FOV ``fov_deg``."""
        image = check_image(image)
        out = self.pipe(image, num_samples=int(samples), num_inference_steps=int(steps), generator=generator,
                        scheduler=self.scheduler, **self._camera(fov_deg))
        return self._result(out)

    def complete(self, image: np.ndarray, known_depth: np.ndarray, known_mask: np.ndarray, *, steps: int,
                 samples: int, generator: torch.Generator, fov_deg: float | None = None) -> DepthResult:
        """Depth equal to ``known_depth`` on ``known_mask`` (pixels with non-positive or non-finite depth are
        treated as unknown). An empty mask is plain prediction; a full mask returns the known depth."""
        image, known_depth, mask = check_known(image, known_depth, known_mask)
        hw = image.shape[:2]
        if not mask.any():
            return self.predict(image, steps=steps, samples=samples, generator=generator, fov_deg=fov_deg)
        if mask.all():
            k = max(1, int(samples))
            return DepthResult(known_depth.copy(), np.zeros(hw, np.float32), np.repeat(known_depth[None], k, 0))
        out = self.pipe.complete(image, known_depth, mask, num_samples=int(samples), num_inference_steps=int(steps),
                                 generator=generator, scheduler=self.scheduler, **self._camera(fov_deg))
        res = self._result(out)
        res.depth = np.where(mask, known_depth, res.depth).astype(np.float32)
        res.uncertainty = np.where(mask, 0.0, res.uncertainty).astype(np.float32)
        return res


# ------------------------------------------------------------------------------------- real-world weights
# Models whose output is only defined up to scale and shift are mapped into metres for a first view with no
# known depth: normalised relative depth (or disparity) spans this range. Later views do not depend on it:
# they are fitted to the depth rendered from the scene so far.
RELATIVE_RANGE_M = (0.5, 8.0)
OUTPUT_KINDS = ("metric", "depth", "disparity")
# transformers model types that predict metres; DPT (MiDaS) and relative Depth Anything predict disparity.
METRIC_MODEL_TYPES = ("zoedepth", "glpn", "depth_pro")


def relative_to_metres(x: np.ndarray, kind: str, near_far: tuple[float, float] = RELATIVE_RANGE_M) -> np.ndarray:
    """(H, W) float32 metres from a model output (H, W): ``metric`` is kept (floored at 1 mm); ``depth``
    (affine-invariant) is min-max normalised onto [near, far]; ``disparity`` onto [1 / far, 1 / near] and
    inverted."""
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"output kind must be one of {OUTPUT_KINDS}, got {kind!r}")
    x = np.nan_to_num(np.asarray(x, np.float64))
    if kind == "metric":
        return np.maximum(x, 1e-3).astype(np.float32)
    near, far = near_far
    span = float(x.max() - x.min())
    p = (x - x.min()) / span if span > 1e-12 else np.full_like(x, 0.5)
    if kind == "depth":
        return (near + (far - near) * p).astype(np.float32)
    return (1.0 / (1.0 / far + (1.0 / near - 1.0 / far) * p)).astype(np.float32)


def _resize_map(x: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """(h, w) float -> (H, W) float32, bilinear (no-op at the same size)."""
    x = np.asarray(x, np.float32)
    if x.shape == tuple(hw):
        return x
    t = torch.from_numpy(np.ascontiguousarray(x))[None, None]
    return torch.nn.functional.interpolate(t, size=tuple(hw), mode="bilinear", align_corners=False)[0, 0].numpy()


class AlignedDepthBackend:
    """``DepthBackend`` base for depth models that cannot complete known pixels by guided sampling.

    ``predict`` maps the model's output to metres (``relative_to_metres``); ``complete`` fits the raw output
    to the known depth with one scale and shift (``depthgen.evaluation.align.align_scale_shift``, Huber-robust; in
    disparity space for disparity models, as text3d's ``depth_completion=align`` does in depth space) and keeps the
    known pixels exactly. Subclasses set ``output`` ("metric" | "depth" | "disparity") and implement
    ``_raw(image, steps, samples, generator) -> (raw (H, W) float32, spread (H, W) float32 | None)``.
    """

    output = "metric"
    name = "aligned"

    def _raw(self, image: np.ndarray, steps: int, samples: int, generator: torch.Generator):
        raise NotImplementedError

    def predict(self, image: np.ndarray, *, steps: int, samples: int, generator: torch.Generator) -> DepthResult:
        """Depth (H, W) float32 metres of an (H, W, 3) float32 image (relative models: see RELATIVE_RANGE_M)."""
        image = check_image(image)
        raw, spread = self._raw(image, steps, samples, generator)
        depth = relative_to_metres(raw, self.output)
        unc = np.zeros_like(depth)
        if spread is not None and self.output != "disparity":  # spread in the raw unit -> metres
            span = max(float(raw.max() - raw.min()), 1e-12)
            factor = 1.0 if self.output == "metric" else (RELATIVE_RANGE_M[1] - RELATIVE_RANGE_M[0]) / span
            unc = (np.asarray(spread, np.float32) * factor).astype(np.float32)
        return DepthResult(depth, unc, None)

    def complete(self, image: np.ndarray, known_depth: np.ndarray, known_mask: np.ndarray, *, steps: int,
                 samples: int, generator: torch.Generator) -> DepthResult:
        """Depth equal to ``known_depth`` on ``known_mask``; elsewhere the prediction fitted to it."""
        from depthgen.evaluation.align import align_scale_shift

        image, known_depth, mask = check_known(image, known_depth, known_mask)
        hw = image.shape[:2]
        if mask.sum() < 2:
            return self.predict(image, steps=steps, samples=samples, generator=generator)
        if mask.all():
            return DepthResult(known_depth.copy(), np.zeros(hw, np.float32), known_depth[None].copy())
        raw, spread = self._raw(image, steps, samples, generator)
        if self.output == "disparity":
            aligned, scale, _ = align_scale_shift(raw, known_depth, mask, space="disparity", pred_is_disparity=True,
                                                  robust=True, max_depth=10.0 * float(known_depth[mask].max()))
        else:
            aligned, scale, _ = align_scale_shift(raw, known_depth, mask, robust=True)
        unc = np.zeros(hw, np.float32) if spread is None or self.output == "disparity" else abs(scale) * spread
        depth = np.where(mask, known_depth, np.maximum(aligned, 1e-3)).astype(np.float32)
        return DepthResult(depth, np.where(mask, 0.0, unc).astype(np.float32), None)


class MarigoldDepthBackend(AlignedDepthBackend):
    """A diffusers ``MarigoldDepthPipeline`` (affine-invariant depth or disparity; ``samples`` = ensemble size,
    its spread the uncertainty). ``complete`` guides the denoising toward the known depth
    (``text3d.backends.guided_depth``, as Marigold-DC) instead of fitting a finished prediction; a metric
    Marigold model, whose output has no free scale and shift, is aligned as the other outside models."""

    def __init__(self, pipe, name: str, processing_resolution: int | None = None):
        self.pipe, self.name, self.processing_resolution = pipe, name, processing_resolution
        cfg = pipe.config
        kind = getattr(cfg, "prediction_type", None) or "depth"
        affine = bool(getattr(cfg, "scale_invariant", True)) or bool(getattr(cfg, "shift_invariant", True))
        self.output = ("disparity" if kind == "disparity" else "depth") if affine else "metric"
        pipe.unet.requires_grad_(False)  # guidance differentiates through the networks, never into their weights
        pipe.vae.requires_grad_(False)

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = "cpu", name: str | None = None) -> "MarigoldDepthBackend":
        from diffusers import MarigoldDepthPipeline

        return cls(load_pipeline(MarigoldDepthPipeline, path, device), name or str(path))

    def _raw(self, image, steps, samples, generator):
        k = max(1, int(samples))
        out = self.pipe(image, num_inference_steps=int(steps), ensemble_size=k,
                        processing_resolution=self.processing_resolution, match_input_resolution=True,
                        generator=generator, output_type="np", output_uncertainty=k > 1)
        hw = image.shape[:2]
        pred = np.squeeze(np.asarray(out.prediction, np.float32))  # (1, H, W, 1) -> (H, W)
        spread = None if out.uncertainty is None else _resize_map(np.squeeze(np.asarray(out.uncertainty, np.float32)), hw)
        return _resize_map(pred, hw), spread

    def complete(self, image: np.ndarray, known_depth: np.ndarray, known_mask: np.ndarray, *, steps: int,
                 samples: int, generator: torch.Generator) -> DepthResult:
        """Depth equal to ``known_depth`` on ``known_mask``; elsewhere the guided completion (median over
        ``samples`` guided runs, their std the uncertainty)."""
        from text3d.backends.guided_depth import guided_completion

        image, known_depth, mask = check_known(image, known_depth, known_mask)
        if self.output == "metric" or mask.sum() < 2 or mask.all():
            return super().complete(image, known_depth, mask, steps=steps, samples=samples, generator=generator)
        disparity = self.output == "disparity"
        target = np.where(mask, 1.0 / np.maximum(known_depth, 1e-6) if disparity else known_depth, 0.0)
        values = guided_completion(self.pipe, image, target.astype(np.float32), mask, steps=int(steps),
                                   samples=max(1, int(samples)), generator=generator,
                                   processing_resolution=self.processing_resolution)  # (k, H, W)
        depths = 1.0 / np.maximum(values, 1e-6) if disparity else np.maximum(values, 1e-3)
        depth = np.where(mask, known_depth, np.median(depths, axis=0)).astype(np.float32)
        unc = np.where(mask, 0.0, depths.std(axis=0)).astype(np.float32)
        return DepthResult(depth, unc, np.where(mask[None], known_depth[None], depths).astype(np.float32))


def transformers_output_kind(config) -> str:
    """"metric" or "disparity" for a transformers depth-estimation config (Depth Anything says which)."""
    model_type = getattr(config, "model_type", "")
    if model_type == "depth_anything":
        return "metric" if getattr(config, "depth_estimation_type", "relative") == "metric" else "disparity"
    return "metric" if model_type in METRIC_MODEL_TYPES else "disparity"


class TransformersDepthBackend(AlignedDepthBackend):
    """A transformers ``depth-estimation`` model (DPT, Depth Anything, ZoeDepth, GLPN, ...) with its image
    processor, from a folder; deterministic (``generator``, ``steps`` and ``samples`` are not used)."""

    def __init__(self, model, processor, name: str):
        self.model, self.processor, self.name = model, processor, name
        self.output = transformers_output_kind(model.config)

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = "cpu",
                        name: str | None = None) -> "TransformersDepthBackend":
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation

        processor = AutoImageProcessor.from_pretrained(str(path), local_files_only=True)
        model = AutoModelForDepthEstimation.from_pretrained(str(path), local_files_only=True,
                                                            dtype=model_dtype(device)).to(device).eval()
        return cls(model, processor, name or str(path))

    @torch.no_grad()
    def _raw(self, image, steps, samples, generator):
        from PIL import Image

        pil = Image.fromarray(np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8))
        inputs = self.processor(images=pil, return_tensors="pt")
        pixels = inputs["pixel_values"].to(self.model.device, self.model.dtype)
        pred = self.model(pixel_values=pixels).predicted_depth  # (1, h, w)
        return _resize_map(pred.float().reshape(pred.shape[-2:]).cpu().numpy(), image.shape[:2]), None
