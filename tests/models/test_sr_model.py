"""The super-resolution model: tiny random components and the toy recipe built here, no shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler

from depthgen.common.config import load_config
from depthgen.training.trainer import train
from text3d.models.sr import SuperResolutionPipeline
from text3d.models.sr.config import SRModelConfig, SRRecipe
from text3d.models.sr.config import SRAugConfig
from text3d.models.sr.model import augment, build_unet, downsample, gaussian_blur, upsample
from text3d.models.sr.train import SRTask, main

DEBUG = "configs/models/sr/debug.yaml"


def _g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def tiny_pipeline(kind: str = "regression", seed: int = 0) -> SuperResolutionPipeline:
    cfg = SRModelConfig(kind=kind, block_out_channels=(8, 16), unshuffle=2)
    unet = build_unet(cfg, seed=seed)
    with torch.no_grad():  # conv_out starts at zero (= bicubic); give it weights so the network matters
        unet.conv_out.weight.copy_(torch.randn(unet.conv_out.weight.shape, generator=_g(1)) * 0.05)
    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="sample",
                          clip_sample=False)
    return SuperResolutionPipeline(unet.eval(), sched, kind=kind)


def _image(size: int = 16) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (size, size, 3)).astype(np.float32)


@pytest.mark.parametrize("kind", ["regression", "diffusion"])
def test_output_size_range_and_same_seed_same_output(kind):
    pipe = tiny_pipeline(kind)
    img = _image(12)  # 48 px out: not a multiple of the network's 4 -> padded and cropped back
    a = pipe(img, level=0.2, num_inference_steps=2, generator=_g(0))
    b = pipe(img, level=0.2, num_inference_steps=2, generator=_g(0))
    assert a.shape == (48, 48, 3) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, b)


def test_untrained_network_is_bicubic_and_downsampling_returns_the_input():
    """conv_out starts at zero, so at level 0 the output is the bicubic upsampling; its block means give the
    input back within 0.03 (mean abs, [0, 1] units) on a smooth image (bicubic is not an exact inverse of area
    downsampling)."""
    from text3d.models.sr.config import SRRecipe

    r = SRRecipe(model=SRModelConfig(block_out_channels=(8, 16)), data=load_config(SRRecipe, DEBUG).data)
    task = SRTask(r)
    pipe = task.pipeline(task.build_model())
    yy, xx = np.mgrid[:16, :16] / 16.0
    img = np.stack([0.5 + 0.3 * np.sin(3 * xx), 0.5 + 0.3 * np.cos(2 * yy), 0.4 + 0.2 * xx * yy], -1).astype(np.float32)
    out = pipe(img, level=0.0)
    x = torch.from_numpy(img).permute(2, 0, 1)[None] * 2 - 1
    ref = ((upsample(x, 4).clamp(-1, 1)[0].permute(1, 2, 0).numpy() + 1) / 2)
    np.testing.assert_allclose(out, ref, atol=1e-5)
    back = out.reshape(16, 4, 16, 4, 3).mean(axis=(1, 3))
    assert np.abs(back - img).mean() < 0.03


def test_save_load_round_trip_same_output(tmp_path):
    pipe = tiny_pipeline("diffusion")
    pipe.save_pretrained(str(tmp_path / "sr"))
    loaded = SuperResolutionPipeline.from_pretrained(tmp_path / "sr")
    assert loaded.config.kind == "diffusion" and loaded.config.scale == 4
    img = _image()
    np.testing.assert_array_equal(pipe(img, num_inference_steps=2, generator=_g(3)),
                                  loaded(img, num_inference_steps=2, generator=_g(3)))


def test_bad_inputs_are_clear_errors(tmp_path):
    pipe = tiny_pipeline()
    with pytest.raises(ValueError, match="level"):
        pipe(_image(), level=1.5)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        pipe(np.zeros((8, 8), np.float32))
    with pytest.raises(ValueError, match="no model_index.json"):
        SuperResolutionPipeline.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match="model.kind"):
        load_config(SRRecipe, DEBUG, ["model.kind=gan"])
    with pytest.raises(ValueError, match="data.crop"):
        load_config(SRRecipe, DEBUG, ["data.crop=30"])


def test_degradations():
    x = torch.rand(2, 3, 16, 16, generator=_g()) * 2 - 1
    assert downsample(x, 4, "area").shape == (2, 3, 4, 4)
    np.testing.assert_allclose(downsample(x, 4, "area")[0, 0, 0, 0], x[0, 0, :4, :4].mean(), rtol=1e-5)
    np.testing.assert_allclose(downsample(x, 4, "point")[0, 0, 1, 2], x[0, 0, 5:7, 9:11].mean(), rtol=1e-5)
    np.testing.assert_array_equal(gaussian_blur(x, torch.zeros(2)), x)
    cfg = SRAugConfig(blur_sigma=1.0, noise_std=0.2)
    same = augment(x, torch.zeros(2), cfg, _g())
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)
    noisy = augment(x, torch.tensor([0.0, 1.0]), cfg, _g())
    torch.testing.assert_close(noisy[0], x[0], atol=1e-5, rtol=0)  # per-example levels
    assert (noisy[1] - x[1]).abs().mean() > 0.05


@pytest.mark.parametrize("kind", ["regression", "diffusion"])
def test_trainer_resume_equals_one_run_and_export_loads(tmp_path, kind):
    """Two steps + resume to four on the shared trainer equals four steps in one go (same weights)."""
    over = [f"model.kind={kind}"]
    one = load_config(SRRecipe, DEBUG, over + [f"train.output_dir={tmp_path / 'one'}"])
    res = train(SRTask(one), progress=False)
    assert res.step == 4 and res.export is not None
    two = load_config(SRRecipe, DEBUG, over + [f"train.output_dir={tmp_path / 'two'}"])
    train(SRTask(two), stop_step=2, progress=False)
    res2 = train(SRTask(two), resume=True, progress=False)
    assert res2.step == 4
    a = SuperResolutionPipeline.from_pretrained(res.export)
    b = SuperResolutionPipeline.from_pretrained(res2.export)
    for (k, va), vb in zip(a.unet.state_dict().items(), b.unet.state_dict().values()):
        torch.testing.assert_close(va, vb, msg=k)
    assert (res.export / "README.md").is_file()
    assert a(_image(), num_inference_steps=2).shape == (64, 64, 3)


def test_cli_bad_recipe_exits_2(tmp_path, capsys):
    assert main(["--config", DEBUG, "data.kind=nowhere"]) == 2
    assert "data.kind" in capsys.readouterr().err
    assert main(["--config", DEBUG, f"train.output_dir={tmp_path}", "data.kind=procedural_shards",
                 f"data.path={tmp_path / 'none'}"]) == 2
