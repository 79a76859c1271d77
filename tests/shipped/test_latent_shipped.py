"""Shipped-weight guards of the latent image models (assets/t2i-latent, assets/inpaint-latent) and the default
preset that runs them: real weights, a handful of images, CPU, one torch thread as CI runs it.

Thresholds hold the figures measured on the shipped weights with a margin (the model cards give the figures), so
a broken export, a lost autoencoder or clipped latents (grey, flat views) fail here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bench.outpainting_metrics import detail
from text3d.models.t2i.classifier import TrainedClassifier

ASSETS = Path(__file__).resolve().parents[2] / "assets"
FOLDERS = ("t2i-latent", "inpaint-latent")
WEIGHTS = "diffusion_pytorch_model.safetensors"
# From pure noise, PROMPTS x seeds 0-1 at the saved guidance, labelled by assets/scene-classifier
PROMPTS = {"a cozy library": "library", "the seaside on a bright day": "beach", "a misty woodland": "forest",
           "rows of school desks facing the board": "classroom"}
MIN_T2I_ALIGNED = 0.625  # measured: 1.0 (8 of 8; 0.75 without the caption prior, the woodland read as hills)
MIN_ORBIT_ALIGNED = 0.5  # "a cozy library", seed 0, default preset: share of the 10 views labelled library
# (measured: 0.7; the others read as a living room, a dining room and a street, though shelves of books show all round)
MIN_DETAIL = 0.1  # no blank view: later views' detail over the first view's (measured: 0.27 at the least)
MIN_CONTRAST = 0.13  # mean per-image pixel standard deviation (measured: 0.179); clipped latents gave 0.097
PRIOR_STRENGTH = 0.75  # the caption prior's saved strength, chosen on the development prompts


@pytest.fixture(scope="module")
def classifier() -> TrainedClassifier:
    return TrainedClassifier.load(ASSETS / "scene-classifier")


def _dtypes(path: Path) -> set[str]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return {f.get_slice(k).get_dtype() for k in f.keys()}


@pytest.mark.parametrize("name", FOLDERS)
def test_latent_folders_hold_fp16_weights_and_the_published_autoencoder_with_its_licence(name):
    folder = ASSETS / name
    assert (folder / "model_index.json").is_file() and (folder / "README.md").is_file()
    assert _dtypes(folder / "unet" / WEIGHTS) == {"F16"}
    # the very file of assets/autoencoder: one git object for all three folders
    assert (folder / "vae" / WEIGHTS).read_bytes() == (ASSETS / "autoencoder" / WEIGHTS).read_bytes()
    assert "MIT License" in (folder / "vae" / "LICENSE").read_text()


def test_latent_text_to_image_paints_the_prompted_scene_from_noise(classifier):
    from text3d.models.t2i import TextToImagePipeline

    pipe = TextToImagePipeline.from_pretrained(ASSETS / "t2i-latent")
    assert pipe.is_latent and pipe.layout_bank is None
    gens = lambda: [torch.Generator().manual_seed(s) for s in (0, 1)]  # noqa: E731
    images = [im for p in PROMPTS for im in pipe(p, generator=gens(), num_images_per_prompt=2)]
    assert all(im.shape == (256, 256, 3) for im in images)
    labels = classifier.predict(images)
    targets = [t for t in PROMPTS.values() for _ in (0, 1)]
    aligned = np.mean([a == b for a, b in zip(labels, targets)])
    assert aligned >= MIN_T2I_ALIGNED, list(zip(labels, targets))
    assert np.mean([im.std() for im in images]) >= MIN_CONTRAST
    again = pipe("a cozy library", generator=torch.Generator().manual_seed(0))[0]
    np.testing.assert_allclose(again, images[0], atol=1e-3)  # same seed, same picture (alone or batched)


def test_both_latent_models_carry_the_same_caption_prior():
    from text3d.models.inpaint import TextInpaintPipeline
    from text3d.models.t2i import TextToImagePipeline
    from text3d.models.t2i.caption_prior import PRIOR_FILE

    t2i = TextToImagePipeline.from_pretrained(ASSETS / "t2i-latent")
    inpaint = TextInpaintPipeline.from_pretrained(ASSETS / "inpaint-latent")
    for pipe in (t2i, inpaint):
        assert pipe.config.caption_prior_strength == PRIOR_STRENGTH and len(pipe.caption_prior) >= 1024
    # one file, so one git object for both folders
    assert (ASSETS / "t2i-latent" / PRIOR_FILE).read_bytes() == (ASSETS / "inpaint-latent" / PRIOR_FILE).read_bytes()
    # prompts that name no scene type are moved to where the UNet was trained: nearer a training caption
    prompts = ["somewhere to cook dinner", "a peaceful place to sleep", "a misty woodland"]
    raw = t2i.encode_prompts(prompts)
    moved = t2i.apply_caption_prior(raw)
    nearest = lambda e: (e @ t2i.caption_prior.embeddings.T).max(1).values  # noqa: E731
    assert (nearest(moved) > nearest(raw) + 0.05).all()


def test_the_default_preset_runs_an_orbit_of_the_prompted_scene(tmp_path, classifier):
    import text3d

    result = text3d.generate_scene("a cozy library", seed=0, out_dir=tmp_path / "run")
    assert result.manifest["backends"]["t2i"] == result.manifest["backends"]["inpaint"] == "embedded-latent"
    images = [v.image for v in result.views]
    assert len(images) == 10 and images[0].shape == (256, 256, 3)
    labels = classifier.predict(images)
    assert np.mean([label == "library" for label in labels]) >= MIN_ORBIT_ALIGNED, labels
    assert min(detail(im) / detail(images[0]) for im in images[1:]) >= MIN_DETAIL
    assert (tmp_path / "run" / "scene.glb").is_file()
