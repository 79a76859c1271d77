"""Embedded backends (t2i, Palette inpainting, DepthGen depth) over tiny random pipelines saved here, and the
registry's choices and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from text3d.backends import registry
from text3d.backends.protocols import (Capabilities, DepthBackend, DepthResult, InpaintBackend, TextToImageBackend,
                                       capabilities_of)
from text3d.backends.registry import build_backend
from text3d.fakes import tiny_depth_pipeline, tiny_palette_pipeline, tiny_t2i_pipeline, tiny_text_inpaint_pipeline

S = 16


def g(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """assets/{t2i,inpaint,depthgen} with tiny random pipelines (the layout ``embedded`` resolves to), and a
    prompt-blind Palette inpainting folder (loaded by path)."""
    root = tmp_path_factory.mktemp("assets")
    tiny_t2i_pipeline(S).save_pretrained(str(root / "t2i"))
    tiny_text_inpaint_pipeline(S).save_pretrained(str(root / "inpaint"))
    tiny_palette_pipeline(S).save_pretrained(str(root / "palette"))
    tiny_depth_pipeline(S).save_pretrained(str(root / "depthgen"))
    return root


@pytest.fixture
def embedded_assets(assets, monkeypatch):
    monkeypatch.setattr(registry, "ASSETS", assets)
    return assets


def test_embedded_text_to_image(embedded_assets):
    backend = build_backend("t2i", "embedded")
    assert isinstance(backend, TextToImageBackend) and backend.name == "embedded"
    a = backend.generate("a cozy library", height=24, width=40, steps=3, generator=g(0)).image
    b = backend.generate("a cozy library", height=24, width=40, steps=3, generator=g(0)).image
    assert a.shape == (24, 40, 3) and a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, b)


def inpaint_twice(backend, h: int, w: int, steps: int, seed: int):
    """(image, mask, output) after checking the InpaintBackend contract on a random (h, w) image with a box
    hole: float32 output of the image's shape, known pixels unchanged, the same generator seed gives the same
    output."""
    assert isinstance(backend, InpaintBackend)
    image = np.random.default_rng(0).random((h, w, 3)).astype(np.float32)
    mask = np.zeros((h, w), bool)
    mask[h // 4:h * 3 // 5, w // 4:w * 4 // 5] = True
    a, b = (backend.inpaint(image, mask, prompt="a room", steps=steps, generator=g(seed)) for _ in range(2))
    assert a.shape == image.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a[~mask], image[~mask])
    np.testing.assert_array_equal(a, b)
    return image, mask, a


def test_embedded_inpaint_keeps_known_pixels(embedded_assets):
    backend = build_backend("inpaint", "embedded")
    assert capabilities_of(backend).guidance  # the text-conditioned model is the default
    image, mask, _ = inpaint_twice(backend, 20, 28, steps=3, seed=1)
    full = backend.inpaint(image, np.ones_like(mask), prompt="a room", steps=2, generator=g(1))
    assert full.shape == image.shape and np.isfinite(full).all()
    crack = np.zeros_like(mask)
    crack[5, 3:20] = True  # a one-pixel crack: filled by Telea, no diffusion
    thin = backend.inpaint(image, crack, prompt="a room", steps=2, generator=g(1))
    np.testing.assert_array_equal(thin[~crack], image[~crack])
    legacy = build_backend("inpaint", str(embedded_assets / "palette"))
    assert capabilities_of(legacy) == Capabilities()


def test_embedded_depth_predict_and_complete(embedded_assets):
    backend = build_backend("depth", "embedded")
    assert isinstance(backend, DepthBackend)
    image = np.random.default_rng(1).random((20, 28, 3)).astype(np.float32)
    res = backend.predict(image, steps=3, samples=2, generator=g(2))
    assert isinstance(res, DepthResult) and res.depth.shape == (20, 28) and res.samples.shape == (2, 20, 28)
    assert (res.depth > 0).all() and res.uncertainty.shape == (20, 28)
    known = np.full((20, 28), 3.0, np.float32)
    mask = np.zeros((20, 28), bool)
    mask[:, :14] = True
    known[0, 0] = 0.0  # a render hole inside the mask counts as unknown, not as a 0 m depth
    out = backend.complete(image, known, mask, steps=3, samples=2, generator=g(3))
    keep = mask & (known > 0)
    np.testing.assert_array_equal(out.depth[keep], known[keep])
    assert (out.uncertainty[keep] == 0).all() and out.depth[0, 0] > 0
    full = backend.complete(image, np.full((20, 28), 2.0, np.float32), np.ones((20, 28), bool), steps=2, samples=1,
                            generator=g(0))
    np.testing.assert_array_equal(full.depth, np.full((20, 28), 2.0, np.float32))


def test_folder_picks_pipeline_by_class(assets):
    assert type(build_backend("t2i", str(assets / "t2i"))).__name__ == "EmbeddedTextToImage"
    assert type(build_backend("depth", str(assets / "depthgen"))).__name__ == "DepthGenBackend"
    with pytest.raises(ValueError, match="not a t2i model"):
        build_backend("t2i", str(assets / "depthgen"))
    with pytest.raises(ValueError, match="not a depth model"):
        build_backend("depth", str(assets / "inpaint"))


def test_embedded_latent_names_the_latent_folders(tmp_path, monkeypatch):
    tiny_t2i_pipeline(S).save_pretrained(str(tmp_path / "t2i-latent"))
    tiny_text_inpaint_pipeline(S).save_pretrained(str(tmp_path / "inpaint-latent"))
    monkeypatch.setattr(registry, "ASSETS", tmp_path)
    assert build_backend("t2i", "embedded-latent").name == "embedded-latent"
    assert type(build_backend("inpaint", "embedded-latent")).__name__ == "EmbeddedTextInpaint"
    with pytest.raises(ValueError, match="embedded t2i model is missing"):  # the pixel folders are not there
        build_backend("t2i", "embedded")


def test_registry_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "ASSETS", tmp_path / "no-assets")
    with pytest.raises(ValueError, match="t2i, inpaint, depth"):
        build_backend("video", "embedded")
    with pytest.raises(ValueError, match="embedded t2i model is missing"):
        build_backend("t2i", "embedded")
    with pytest.raises(ValueError, match="embedded-latent inpaint model is missing"):
        build_backend("inpaint", "embedded-latent")
    with pytest.raises(ValueError, match="no embedded-latent depth model"):
        build_backend("depth", "embedded-latent")
    with pytest.raises(ValueError, match="choose 'embedded'"):
        build_backend("depth", "nonsense-name")
    with pytest.raises(ValueError, match="empty"):
        build_backend("inpaint", "  ")
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValueError, match="model_index.json"):
        build_backend("t2i", str(tmp_path / "plain"))
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(ValueError, match="not a DepthGenPipeline"):
        build_backend("depth", str(tmp_path / "odd"))


def test_default_assets_path_is_inside_the_project():
    from pathlib import Path

    import text3d

    assert registry.ASSETS == Path(text3d.__file__).resolve().parents[1] / "assets"


def test_text_inpaint_routes_cracks_to_telea_and_wide_holes_to_the_model():
    """Hole pieces at most small_hole_px wide are Telea-filled first; the model paints only the wide pieces,
    seeing the filled cracks as known."""
    from text3d.backends.embedded import EmbeddedTextInpaint, classical_fill

    class Recorder:
        def __init__(self):
            self.masks, self.images = [], []

        def encode_prompt(self, prompt):
            return None

        def __call__(self, image, mask, prompt, **kw):
            self.masks.append(mask.copy())
            self.images.append(image.copy())
            self.options = {k: kw[k] for k in ("guidance_scale", "layout_strength", "layout_transform")}
            return np.where(mask[..., None], np.float32(0.5), image)

    image = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    crack = np.zeros((32, 32), bool)
    crack[3, 2:30] = True            # one pixel wide
    box = np.zeros_like(crack)
    box[12:28, 8:24] = True          # 16 px wide
    pipe = Recorder()
    backend = EmbeddedTextInpaint(pipe, small_hole_px=4, expected_fill_below=0.0)  # every hole sampled
    out = backend.inpaint(image, crack | box, prompt="a room", steps=2, generator=g(0))
    assert len(pipe.masks) == 1 and np.array_equal(pipe.masks[0], box)
    np.testing.assert_array_equal(out[crack], classical_fill(image, crack)[crack])
    np.testing.assert_array_equal(pipe.images[0][crack], out[crack])  # the model saw the cracks filled
    assert np.all(out[box] == 0.5) and np.array_equal(out[~(crack | box)], image[~(crack | box)])
    assert pipe.options == {"guidance_scale": None, "layout_strength": None, "layout_transform": None}  # defaults
    tilt = np.diag([1.0, 1.0, 1.0])
    tilt[1, 2] = -5.0
    backend.inpaint(image, box, prompt="a room", steps=2, generator=g(0), guidance_scale=3.0, layout_strength=1.0,
                    layout_transform=tilt)
    assert pipe.options == {"guidance_scale": 3.0, "layout_strength": 1.0, "layout_transform": tilt}
    pipe.masks = pipe.masks[:1]
    only_crack = backend.inpaint(image, crack, prompt="a room", steps=2, generator=g(0))
    assert len(pipe.masks) == 1  # no model call for cracks alone
    np.testing.assert_array_equal(only_crack, classical_fill(image, crack))


def test_text_inpaint_fills_small_holes_with_the_expected_fill_and_samples_large_ones():
    """A hole under expected_fill_below of the picture gets (1 - w) x the mean of Telea (radius 3 and 1) and
    Navier-Stokes + w x the model's one-step, unguided guess from pure noise; a larger one is sampled with the
    caller's settings. Bad settings are refused."""
    from text3d.backends.embedded import EmbeddedTextInpaint, classical_fill

    class Recorder:
        def __init__(self):
            self.calls = []

        def encode_prompt(self, prompt):
            return prompt

        def __call__(self, image, mask, prompt, **kw):
            self.calls.append(dict(kw, prompt=prompt))
            return np.where(mask[..., None], np.float32(0.5), image)

    image = np.random.default_rng(1).random((32, 32, 3)).astype(np.float32)
    small = np.zeros((32, 32), bool)
    small[10:18, 10:18] = True  # 6% of the picture
    pipe = Recorder()
    backend = EmbeddedTextInpaint(pipe, expected_fill_below=0.3, expected_fill_model_weight=0.25)
    out = backend.inpaint(image, small, prompt=" a library ", steps=20, generator=g(0), guidance_scale=6.0,
                          layout_strength=0.6)
    (call,) = pipe.calls
    assert call["num_inference_steps"] == 1 and call["guidance_scale"] == 1.0 and call["layout_strength"] == 1.0
    assert call["prompt"] == "a library" and call["text_embedding"] == "a library"
    classical = (classical_fill(image, small, "telea", 3) + classical_fill(image, small, "telea", 1)
                 + classical_fill(image, small, "ns", 3)) / 3
    expected = 0.75 * classical + 0.25 * 0.5
    np.testing.assert_allclose(out[small], expected[small], atol=1e-6)
    assert not np.allclose(classical_fill(image, small, "telea", 1), classical_fill(image, small))  # three fills
    np.testing.assert_array_equal(out[~small], image[~small])
    large = np.zeros((32, 32), bool)
    large[:, 12:] = True  # a side band of 62%
    backend.inpaint(image, large, prompt="a library", steps=20, generator=g(0), guidance_scale=6.0)
    assert pipe.calls[-1]["num_inference_steps"] == 20 and pipe.calls[-1]["guidance_scale"] == 6.0
    only_classical = EmbeddedTextInpaint(Recorder(), expected_fill_model_weight=0.0)
    np.testing.assert_allclose(only_classical.inpaint(image, small, prompt="", steps=2, generator=g(0))[small],
                               classical[small], atol=1e-6)
    assert only_classical.pipe.calls == []
    for bad in ({"expected_fill_below": -0.1}, {"expected_fill_below": 1.5}, {"expected_fill_model_weight": 2}):
        with pytest.raises(ValueError, match="must be in \\[0, 1\\]"):
            EmbeddedTextInpaint(Recorder(), **bad)


def test_a_latent_model_declares_that_it_paints_full_resolution_pixels():
    from diffusers import DDIMScheduler

    from text3d.backends.embedded import EmbeddedTextInpaint, EmbeddedTextToImage
    from text3d.models.autoencoder import TinyAutoencoder
    from text3d.models.t2i import TextToImagePipeline
    from text3d.models.t2i.config import T2IModelConfig
    from text3d.models.t2i.model import build_unet

    assert not EmbeddedTextToImage(tiny_t2i_pipeline()).capabilities.full_resolution
    assert not EmbeddedTextInpaint(tiny_text_inpaint_pipeline()).capabilities.full_resolution
    unet = build_unet(T2IModelConfig(preset="tiny", sample_size=4, latent_channels=32, coord_channels=True))
    latent = TextToImagePipeline(unet, DDIMScheduler(), vae=TinyAutoencoder(), latents_mean=[0.0] * 32,
                                 latents_std=[1.0] * 32)
    backend = EmbeddedTextToImage(latent)
    assert backend.capabilities.full_resolution and backend.capabilities.layout_strength
    image = backend.generate("a room", height=32, width=32, steps=1, generator=torch.Generator().manual_seed(0)).image
    assert image.shape == (32, 32, 3)


def test_text_to_image_backend_samples_at_the_guidance_saved_with_the_model():
    from text3d.backends.embedded import EmbeddedTextToImage

    pipe = tiny_t2i_pipeline()
    calls = []
    sample = pipe.sample
    pipe.sample = lambda *a, **kw: calls.append(kw["guidance_scale"]) or sample(*a, **kw)
    pipe.register_to_config(guidance_scale=5.0)
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    saved = EmbeddedTextToImage(pipe).generate("a room", height=16, width=16, steps=2, generator=gen()).image
    at_5 = pipe("a room", num_inference_steps=2, guidance_scale=5.0, generator=gen())[0]
    EmbeddedTextToImage(pipe, guidance_scale=2.0).generate("a room", height=16, width=16, steps=2, generator=gen())
    assert calls[0] is None and calls[2] == 2.0  # None: the pipeline resolves its saved 5
    np.testing.assert_array_equal(saved, at_5)
