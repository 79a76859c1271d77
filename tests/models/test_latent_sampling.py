"""Sampling in a latent pipeline's model space: normalised autoencoder latents are unbounded, so DDIM must not clip
the x0 estimates of a latent model to [-1, 1] (it clips a pixel model's, whose images live there). With the clip,
every step pulled the latents towards zero and the decoded views came out grey and smeared."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from depthgen.models.diffusion import make_train_scheduler
from text3d.models.autoencoder import TinyAutoencoder
from text3d.models.inpaint import TextInpaintPipeline
from text3d.models.inpaint import model as inpaint_model
from text3d.models.t2i import pipeline as t2i_pipeline
from text3d.models.t2i.config import T2IDiffusionConfig, T2IModelConfig
from text3d.models.t2i.model import build_unet
from text3d.models.t2i.pipeline import TextToImagePipeline

X0 = 3.0  # what the stand-in UNet predicts everywhere: a value a normalised latent often takes


def _scheduler():
    from diffusers import DDIMScheduler

    return DDIMScheduler.from_config(make_train_scheduler(T2IDiffusionConfig(prediction_type="sample")).config)


def _model(latent: bool) -> tuple[T2IModelConfig, dict]:
    """A tiny UNet config and the pipeline's model-space arguments: 4x4x32 TAEF2 latents (32 px) or 8x8 pixels."""
    if not latent:
        return T2IModelConfig(preset="tiny", sample_size=8, coord_channels=True), {}
    space = dict(vae=TinyAutoencoder(), latents_mean=[0.0] * 32, latents_std=[1.0] * 32)
    return T2IModelConfig(preset="tiny", sample_size=4, latent_channels=32, coord_channels=True), space


def _t2i(latent: bool) -> TextToImagePipeline:
    cfg, space = _model(latent)
    return TextToImagePipeline(build_unet(cfg), _scheduler(), **space)


def _inpaint(latent: bool) -> TextInpaintPipeline:
    cfg, space = _model(latent)
    return TextInpaintPipeline(inpaint_model.build_unet(cfg), _scheduler(), **space)


def _final_sample(pipe, run, monkeypatch, module) -> torch.Tensor:
    """Run ``run()`` with a UNet that predicts x0 = X0 everywhere; returns the model-space sample it decoded."""
    seen, decode = [], pipe.model_to_images
    channels = pipe.unet.config.out_channels

    def record(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.clone())
        return decode(x)

    monkeypatch.setattr(module, "unet_forward", lambda unet, x, *args, **kw: torch.full_like(x[:, :channels], X0))
    monkeypatch.setattr(pipe, "model_to_images", record)
    run()
    return seen[-1]


def _check(x: torch.Tensor, latent: bool) -> None:
    """A latent sample reaches the predicted X0; a pixel sample stays within the clip at 1."""
    if latent:
        assert torch.allclose(x, torch.full_like(x, X0), atol=0.1), float(x.mean())
    else:
        assert 0.5 < float(x.mean()) and float(x.max()) <= 1.05, (float(x.mean()), float(x.max()))


@pytest.mark.parametrize("latent", [True, False])
def test_text_to_image_clips_pixels_but_not_latents(latent, monkeypatch):
    pipe = _t2i(latent)
    x = _final_sample(pipe, lambda: pipe("a room", num_inference_steps=5, guidance_scale=1.0,
                                         generator=torch.Generator().manual_seed(0)), monkeypatch, t2i_pipeline)
    _check(x, latent)


@pytest.mark.parametrize("latent", [True, False])
def test_inpainting_clips_pixels_but_not_latents(latent, monkeypatch):
    import text3d.models.inpaint.pipeline as inpaint_pipeline

    pipe = _inpaint(latent)
    size = pipe.image_size
    image = np.full((size, size, 3), 0.5, np.float32)
    mask = np.zeros((size, size), bool)
    mask[:, size // 2:] = True
    x = _final_sample(pipe, lambda: pipe(image, mask, "a room", num_inference_steps=5, guidance_scale=1.0,
                                         generator=torch.Generator().manual_seed(0)), monkeypatch, inpaint_pipeline)
    hole = x[..., -1]  # the right-most column of the model grid lies inside the hole
    _check(hole, latent)
