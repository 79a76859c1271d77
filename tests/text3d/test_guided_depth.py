"""Depth completion of a diffusers Marigold pipeline by test-time guidance (``text3d.backends.guided_depth``), with a
tiny random ``MarigoldDepthPipeline`` built here: the guided prediction fits the known depth better than the
unguided one fitted afterwards, keeps the known pixels, and repeats with the same seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from depthgen.evaluation.align import align_scale_shift
from text3d.backends.guided_depth import guided_completion
from text3d.backends.registry import build_backend
from text3d.fakes import save_tiny_marigold


def g(seed: int = 0) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


@pytest.fixture(scope="module")
def marigold(tmp_path_factory):
    root = tmp_path_factory.mktemp("marigold")
    save_tiny_marigold(root / "marigold")
    save_tiny_marigold(root / "marigold-disparity", prediction_type="disparity")
    return root


def scene(h: int = 24, w: int = 32):
    """An image, a known depth (a slanted plane, metres) and the known left part."""
    image = np.random.default_rng(1).random((h, w, 3)).astype(np.float32)
    depth = (2.0 + np.linspace(0, 1.5, w, dtype=np.float32)[None] + np.linspace(0, 0.5, h, dtype=np.float32)[:, None])
    mask = np.zeros((h, w), bool)
    mask[:, : w // 2] = True
    return image, depth.astype(np.float32), mask


def test_guided_prediction_fits_the_known_depth_better_than_the_unguided_one(marigold):
    backend = build_backend("depth", str(marigold / "marigold"), "cpu")
    image, depth, mask = scene()
    guided = guided_completion(backend.pipe, image, np.where(mask, depth, 0), mask, steps=10, generator=g())[0]
    raw, _ = backend._raw(image, 10, 1, g())  # the same model, steps and seed without guidance
    fitted, _, _ = align_scale_shift(raw, depth, mask)  # least-squares scale and shift afterwards
    err_guided = np.abs(guided[mask] - depth[mask]).mean()
    err_fitted = np.abs(fitted[mask] - depth[mask]).mean()
    assert err_guided < err_fitted


@pytest.mark.parametrize("folder", ["marigold", "marigold-disparity"])
def test_complete_keeps_known_depth_and_repeats_with_the_seed(marigold, folder):
    backend = build_backend("depth", str(marigold / folder), "cpu")
    image, depth, mask = scene()
    a = backend.complete(image, depth, mask, steps=2, samples=2, generator=g())
    b = backend.complete(image, depth, mask, steps=2, samples=2, generator=g())
    np.testing.assert_array_equal(a.depth, b.depth)
    np.testing.assert_array_equal(a.depth[mask], depth[mask])
    assert a.samples.shape == (2, *depth.shape) and (a.uncertainty[mask] == 0).all()
    fill = a.depth[~mask]
    assert np.isfinite(fill).all() and (fill > 0).all() and (a.uncertainty[~mask] >= 0).all()
    assert 0.5 < np.median(fill) / np.median(depth[mask]) < 2.0  # at the known depth's scale
