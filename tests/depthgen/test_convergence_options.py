"""Faster-convergence recipe switches (issue 20): scale-invariant log term, min-SNR weighting, single-step
training, warm start from the regression network; and the camera options training end to end."""

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from depthgen.common.config import load_config
from depthgen.models.config import DiffusionConfig, ModelConfig
from depthgen.models.diffusion import (diffusion_loss, make_train_scheduler, masked_loss, min_snr_weights,
                                       regression_loss, si_log_loss, single_step_x0, snr)
from depthgen.models.unet import build_unet
from depthgen.train import main
from depthgen.training.recipe import Recipe

TINY = str(Path(__file__).resolve().parents[2] / "configs" / "depthgen" / "tiny.yaml")
FAST = ["model.sample_size=16", "train.batch_size=2", "data.live_size=16"]


def batch(b=3, s=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    valid = torch.rand(b, 1, s, s, generator=gen) > 0.2
    return {"cond": torch.rand(b, 4, s, s, generator=gen) * 2 - 1, "target": torch.rand(b, 1, s, s, generator=gen) * 2 - 1,
            "valid": valid, "task": torch.full((b,), 4)}


def test_si_log_ignores_a_global_log_scale_and_is_zero_when_exact():
    x = batch()
    t, v = x["target"], x["valid"]
    assert float(si_log_loss(t, t, v)) == pytest.approx(0.0, abs=1e-7)
    pred = t + 0.1 * torch.randn(t.shape, generator=torch.Generator().manual_seed(1))
    # lambda 1: a constant offset in log depth (a global scale) costs nothing
    assert float(si_log_loss(pred + 0.3, t, v)) == pytest.approx(float(si_log_loss(pred, t, v)), rel=1e-4)
    # lambda 0: the plain mean squared log error, which the offset does change
    assert float(si_log_loss(pred + 0.3, t, v, 0.0)) > float(si_log_loss(pred, t, v, 0.0))
    none = torch.zeros_like(v)
    assert float(si_log_loss(pred, t, none)) == 0.0  # no valid pixel, no loss


def test_min_snr_weights_follow_the_prediction_type():
    sched = make_train_scheduler(DiffusionConfig())
    t = torch.tensor([0, 100, 500, 900, 999])
    s = snr(sched, t)
    assert (s[:-1] > s[1:]).all()  # SNR falls with t
    eps = min_snr_weights(sched, t, 5.0, "epsilon")
    assert torch.allclose(eps, torch.clamp(s, max=5.0) / s) and eps.max() <= 1.0 and eps[-1] == pytest.approx(1.0)
    assert torch.allclose(min_snr_weights(sched, t, 5.0, "v_prediction"), torch.clamp(s, max=5.0) / (s + 1))
    assert torch.allclose(min_snr_weights(sched, t, 5.0, "sample"), torch.clamp(s, max=5.0))
    x = batch()
    w = torch.tensor([1.0, 0.0, 2.0])
    err = (x["target"] * 0).abs()
    assert float(masked_loss(err, x["target"], x["valid"], weights=w, reduction="image")) == pytest.approx(
        float((masked_loss(err[:1], x["target"][:1], x["valid"][:1]) +
               2 * masked_loss(err[2:], x["target"][2:], x["valid"][2:])) / 3), rel=1e-5)


@pytest.mark.parametrize("option", ["diffusion.min_snr_gamma=5", "diffusion.si_log_weight=0.5"])
def test_loss_options_change_the_loss_deterministically(option):
    unet = build_unet(ModelConfig(preset="tiny", sample_size=8), 1, seed=0)
    base = DiffusionConfig(prediction_type="sample")
    key, value = option.split("=")
    cfg = DiffusionConfig(prediction_type="sample", **{key.split(".")[1]: float(value)})
    sched = make_train_scheduler(cfg)
    plain = diffusion_loss(unet, sched, batch(), base, torch.Generator().manual_seed(0))[0]
    a, stats = diffusion_loss(unet, sched, batch(), cfg, torch.Generator().manual_seed(0))
    b = diffusion_loss(unet, sched, batch(), cfg, torch.Generator().manual_seed(0))[0]
    assert torch.equal(a, b) and not torch.equal(a, plain)
    a.backward()
    assert unet.conv_out.weight.grad.abs().sum() > 0
    if "si_log" in option:
        assert stats["si_log"] > 0
        assert regression_loss(unet, batch(), cfg)[0] > regression_loss(unet, batch(), base)[0]


def test_single_step_loss_is_the_x0_loss_at_the_last_timestep_without_random_draws():
    unet = build_unet(ModelConfig(preset="tiny", sample_size=8), 1, seed=0)
    cfg = DiffusionConfig(prediction_type="v_prediction", single_step=True)
    sched = make_train_scheduler(cfg)
    gen = torch.Generator().manual_seed(0)
    state = gen.get_state()
    x = batch()
    loss, _ = diffusion_loss(unet, sched, x, cfg, gen)
    assert torch.equal(gen.get_state(), state)  # nothing drawn: a resumed run replays exactly
    x0 = single_step_x0(unet, sched, x["cond"], x["task"], 1, "v_prediction")
    assert torch.allclose(loss, masked_loss(x0, x["target"], x["valid"]))
    with pytest.raises(ValueError, match="single-step"):
        single_step_x0(unet, sched, x["cond"], x["task"], 1, "epsilon")


@pytest.mark.parametrize("over, msg", [
    (["stage=pretrain", "model.fov_conditioning=true"], "depth stages"),
    (["stage=pretrain", "data.fov_aug_prob=0.5"], "depth stages"),
    (["stage=regression", "diffusion.single_step=true"], "finetune option"),
    (["stage=finetune", "diffusion.single_step=true", "diffusion.prediction_type=epsilon"], "epsilon"),
    (["stage=finetune", "depth.canonical_fov_deg=190"], "canonical_fov_deg"),
    (["stage=finetune", "diffusion.si_log_weight=0.5", "depth.param=linear"], "depth.param=log"),
    (["stage=finetune", "diffusion.min_snr_gamma=-1"], "min_snr_gamma"),
    (["stage=finetune", "data.fov_aug_max_zoom=0.5"], "fov_aug"),
])
def test_bad_options_are_value_errors(over, msg):
    with pytest.raises(ValueError, match=msg):
        load_config(Recipe, TINY, over)


def run(out, *extra, steps=None):
    argv = ["--config", TINY, f"train.output_dir={out}", *FAST, *extra, "--no-progress"]
    return main(argv + (["--max-steps", str(steps)] if steps else []))


def test_camera_aware_recipe_trains_and_exports(tmp_path):
    from depthgen.models.depth_pipeline import DepthGenPipeline

    opts = ["stage=finetune", "diffusion.prediction_type=sample", "model.fov_conditioning=true",
            "depth.canonical_fov_deg=60", "data.fov_aug_prob=0.5", "diffusion.si_log_weight=0.5",
            "diffusion.min_snr_gamma=5", "train.max_steps=2"]
    assert run(tmp_path / "cam", *opts) == 0
    pipe = DepthGenPipeline.from_pretrained(tmp_path / "cam" / "pipeline")
    assert pipe.fov_conditioned and pipe.config.canonical_fov_deg == 60.0
    out = pipe(np.zeros((12, 12, 3), np.float32), num_samples=1, num_inference_steps=1, fov_deg=70.0)
    assert out.depth.shape == (12, 12) and np.isfinite(out.depth).all()


def test_single_step_recipe_trains_and_exports_a_single_step_pipeline(tmp_path):
    from depthgen.models.depth_pipeline import DepthGenPipeline

    assert run(tmp_path / "one", "stage=finetune", "diffusion.prediction_type=sample", "diffusion.single_step=true",
               "train.max_steps=2") == 0
    pipe = DepthGenPipeline.from_pretrained(tmp_path / "one" / "pipeline")
    assert pipe.config.objective == "single_step"
    assert (pipe(np.zeros((12, 12, 3), np.float32), num_samples=2).uncertainty == 0).all()


def test_warm_start_from_the_regression_pipeline(tmp_path):
    """train.init_from = an exported regression pipeline folder (as assets/regression): a FOV-conditioned
    DepthGen run starts from exactly its weights (the new FOV filters zero)."""
    assert run(tmp_path / "reg", "stage=regression", "diffusion.prediction_type=sample", "train.max_steps=2") == 0
    reg = load_file(str(tmp_path / "reg" / "pipeline" / "unet" / "diffusion_pytorch_model.safetensors"))
    assert run(tmp_path / "ft", "stage=finetune", "diffusion.prediction_type=sample", "model.fov_conditioning=true",
               f"train.init_from={tmp_path / 'reg' / 'pipeline'}", "train.lr=0", "train.max_steps=1") == 0
    ft = load_file(str(tmp_path / "ft" / "checkpoint-1" / "model.safetensors"))
    assert set(ft) == set(reg)
    for k in reg:
        if k == "conv_in.weight":
            assert torch.equal(ft[k][:, :4], reg[k][:, :4]) and torch.equal(ft[k][:, 5:], reg[k][:, 4:])
            assert (ft[k][:, 4] == 0).all()
        else:
            assert torch.equal(ft[k], reg[k]), k
