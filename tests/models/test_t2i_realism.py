"""The realism measures of bench.bench_t2i: two-sample test and prompt sensitivity (text3d.models.t2i.realism)."""

from __future__ import annotations

import numpy as np
import pytest

from text3d.models.t2i import realism


def _scenes(rng: np.random.Generator, n: int, colour: tuple[float, float, float], noise: float) -> np.ndarray:
    """(n, 16, 16, 3) float images: a flat colour with per-pixel noise."""
    base = np.broadcast_to(np.asarray(colour, np.float32), (n, 16, 16, 3))
    return np.clip(base + rng.normal(0, noise, (n, 16, 16, 3)), 0, 1).astype(np.float32)


def test_two_sample_test_tells_different_sets_apart_and_not_equal_ones():
    rng = np.random.default_rng(0)
    real = np.concatenate([_scenes(rng, 20, (0.2, 0.5, 0.8), 0.05), _scenes(rng, 20, (0.8, 0.4, 0.1), 0.05)])
    fake = rng.uniform(0, 1, (40, 16, 16, 3)).astype(np.float32)  # noise: nothing like the scenes
    twin = np.concatenate([_scenes(rng, 20, (0.2, 0.5, 0.8), 0.05), _scenes(rng, 20, (0.8, 0.4, 0.1), 0.05)])
    apart = realism.two_sample_accuracy(fake, real, draws=1, epochs=8, size=16)
    alike = realism.two_sample_accuracy(twin, real, draws=2, epochs=8, size=16)
    assert apart["accuracy"] >= 0.9
    assert alike["accuracy"] <= 0.75
    assert apart["n_generated"] == apart["n_real"] == 40


def test_two_sample_test_needs_enough_images():
    with pytest.raises(ValueError, match="at least 10"):
        realism.two_sample_accuracy(np.zeros((3, 8, 8, 3)), np.zeros((30, 8, 8, 3)))


def test_prompt_sensitivity_is_high_when_the_prompt_decides_and_low_when_the_seed_does():
    rng = np.random.default_rng(1)
    colours = rng.uniform(0, 1, (4, 3))  # one per prompt or per seed
    prompts = [p for p in range(4) for _ in range(4)]
    seeds = [s for _ in range(4) for s in range(4)]
    by_prompt = np.stack([np.full((16, 16, 3), colours[p]) + rng.normal(0, 0.01, (16, 16, 3)) for p in prompts])
    by_seed = np.stack([np.full((16, 16, 3), colours[s]) + rng.normal(0, 0.01, (16, 16, 3)) for s in seeds])
    assert realism.prompt_sensitivity(np.clip(by_prompt, 0, 1), prompts, seeds, size=16) > 5
    assert realism.prompt_sensitivity(np.clip(by_seed, 0, 1), prompts, seeds, size=16) < 0.2
    with pytest.raises(ValueError, match="two prompts at one seed"):
        realism.prompt_sensitivity(by_prompt[:4], [0, 0, 0, 0], [0, 1, 2, 3], size=16)


def test_true_renders_give_each_type_in_order():
    images, types = realism.true_renders(["kitchen", "bedroom", "kitchen"], per_type=2, size=16, chunk=40,
                                         max_renders=2000)
    assert types == ["kitchen", "kitchen", "bedroom", "bedroom"]
    assert images.shape == (4, 16, 16, 3) and images.dtype == np.uint8
