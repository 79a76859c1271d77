"""Coordinate channels of the t2i UNet: their values, the forward pass, widening an old model, save/load."""

from __future__ import annotations

import pytest
import torch

from text3d.models.t2i.config import T2IModelConfig
from text3d.models.t2i.model import build_unet, coordinate_channels, load_widened, unet_forward


def test_coordinate_channels_run_top_left_to_bottom_right():
    c = coordinate_channels(2, 4, 8)
    assert c.shape == (2, 2, 4, 8)
    assert torch.allclose(c[0, 0, :, 0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))  # y grows downwards
    assert torch.allclose(c[0, 1, 0, :2], torch.tensor([-0.875, -0.625]))  # x grows rightwards
    assert torch.equal(c[0, 0, :, 3], c[0, 0, :, 5]) and torch.equal(c[0], c[1])


def test_coord_model_takes_three_channel_images_and_uses_position():
    unet = build_unet(T2IModelConfig(preset="tiny", sample_size=16, coord_channels=True)).eval()
    assert unet.config.in_channels == 5
    x, t, text = torch.zeros(1, 3, 16, 16), torch.tensor([500]), torch.zeros(1, 384)
    with torch.no_grad():
        unet.conv_in.weight[:, 3:].normal_(0.0, 1.0)  # make the coordinate weights matter
        out = unet_forward(unet, x, t, text)
    assert out.shape == (1, 3, 16, 16)
    # a constant image gives a position-dependent output only through the coordinate channels
    assert not torch.allclose(out, out.flip(-2), atol=1e-4)
    with pytest.raises(ValueError, match="input channels"):
        unet_forward(unet, torch.zeros(1, 4, 16, 16), t, text)


def test_widening_an_old_model_keeps_its_outputs():
    old = build_unet(T2IModelConfig(preset="tiny", sample_size=16), seed=1).eval()
    new = build_unet(T2IModelConfig(preset="tiny", sample_size=16, coord_channels=True), seed=2).eval()
    load_widened(new, old.state_dict())
    g = torch.Generator().manual_seed(0)
    x, text = torch.randn(2, 3, 16, 16, generator=g), torch.randn(2, 384, generator=g)
    t = torch.tensor([10, 900])
    with torch.no_grad():
        assert torch.allclose(unet_forward(old, x, t, text), unet_forward(new, x, t, text), atol=1e-5)
    assert torch.equal(new.conv_in.weight[:, 3:], torch.zeros_like(new.conv_in.weight[:, 3:]))


def test_coord_pipeline_round_trips(tmp_path):
    from diffusers import DDIMScheduler

    from text3d.models.t2i.pipeline import TextToImagePipeline

    unet = build_unet(T2IModelConfig(preset="tiny", sample_size=16, coord_channels=True))
    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="sample")
    TextToImagePipeline(unet, sched).save_pretrained(str(tmp_path / "p"))
    pipe = TextToImagePipeline.from_pretrained(tmp_path / "p")
    assert pipe.unet.config.in_channels == 5
    emb = torch.zeros(1, 384)
    a = pipe("x", num_inference_steps=3, generator=torch.Generator().manual_seed(0), text_embeddings=emb)[0]
    b = TextToImagePipeline(unet, sched)("x", num_inference_steps=3, generator=torch.Generator().manual_seed(0),
                                         text_embeddings=emb)[0]
    assert a.shape == (16, 16, 3)
    assert abs(a - b).max() < 2e-4
