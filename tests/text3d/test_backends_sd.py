"""Stable Diffusion backends with tiny randomly initialised folders (``text3d.fakes``; no download)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from text3d.backends.protocols import TextToImageBackend
from text3d.backends.registry import build_backend
from text3d.fakes import save_tiny_stable_diffusion

from tests.text3d.test_backends_embedded import inpaint_twice


@pytest.fixture(scope="module")
def sd_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("sd")
    save_tiny_stable_diffusion(root)
    return root


def g(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


def test_text_to_image_from_folder(sd_dirs):
    backend = build_backend("t2i", str(sd_dirs / "t2i"), "cpu")
    assert isinstance(backend, TextToImageBackend) and backend.name == str(sd_dirs / "t2i")
    a, b, c = (backend.generate("a room", height=32, width=32, steps=2, generator=g(s)).image for s in (0, 0, 1))
    assert a.shape == (32, 32, 3) and a.dtype == np.float32 and 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-4


def test_text_to_image_size_not_multiple_of_8(sd_dirs):
    backend = build_backend("t2i", str(sd_dirs / "t2i"), "cpu")
    img = backend.generate("a room", height=30, width=37, steps=2, generator=g(0)).image
    assert img.shape == (30, 37, 3) and np.isfinite(img).all()


@pytest.mark.parametrize("folder", ["inpaint", "t2i"])  # a 9-channel inpainting UNet, or SD with latent blending
def test_inpaint_keeps_unmasked_pixels(sd_dirs, folder):
    backend = build_backend("inpaint", str(sd_dirs / folder), "cpu")
    image, mask, a = inpaint_twice(backend, 30, 36, steps=2, seed=0)
    assert np.abs(a[mask] - image[mask]).mean() > 1e-3  # the hole was repainted
    np.testing.assert_array_equal(backend.inpaint(image, np.zeros_like(mask), prompt="x", steps=2, generator=g(0)), image)


def test_inpaint_prompt_reaches_stable_diffusion(sd_dirs):
    """The view's prompt conditions the Stable Diffusion inpainting pipeline: same image, hole and seed, two
    prompts, two fills (issue 18: text3d hands each view its own prompt, tests/text3d/test_pipeline.py)."""
    backend = build_backend("inpaint", str(sd_dirs / "inpaint"), "cpu")
    image = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    mask = np.zeros((32, 32), bool)
    mask[8:24, 8:24] = True
    room, cab = (backend.inpaint(image, mask, prompt=p, steps=2, generator=g(0)) for p in ("a room", "cab"))
    assert np.abs(room[mask] - cab[mask]).mean() > 1e-4
    np.testing.assert_array_equal(room[~mask], cab[~mask])


def test_hub_id_not_in_cache_is_a_value_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    with pytest.raises(ValueError, match="not in the local Hugging Face cache.*--allow-download"):
        build_backend("t2i", "someone/not-a-cached-model", "cpu")
