"""Training objectives: masked losses, prediction-type algebra, SUD, regression."""

import pytest
import torch

from depthgen.models.config import DiffusionConfig, ModelConfig
from depthgen.models.diffusion import (diffusion_loss, make_train_scheduler, masked_loss, pred_to_x0, regression_loss,
                                       sample_timesteps, target_for)
from depthgen.models.unet import build_unet


def batch(b=3, c=1, s=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    valid = torch.rand(b, 1, s, s, generator=g) > 0.3
    return {"cond": torch.rand(b, 4, s, s, generator=g) * 2 - 1, "target": torch.rand(b, c, s, s, generator=g) * 2 - 1,
            "valid": valid, "task": torch.full((b,), 4)}


def test_masked_loss_ignores_invalid_pixels():
    pred, tgt = torch.zeros(1, 1, 2, 2), torch.tensor([[[[1.0, 100.0], [3.0, -50.0]]]])
    valid = torch.tensor([[[[True, False], [True, False]]]])
    assert masked_loss(pred, tgt, valid, "l1").item() == pytest.approx(2.0)
    assert masked_loss(pred, tgt, valid, "l2").item() == pytest.approx(5.0)


def test_image_reduction_weights_every_image_alike():
    # image 0: one valid pixel with error 4; image 1: all four valid, error 1 each
    pred = torch.zeros(2, 1, 2, 2)
    tgt = torch.tensor([[[[4.0, 9.0], [9.0, 9.0]]], [[[1.0, 1.0], [1.0, 1.0]]]])
    valid = torch.tensor([[[[True, False], [False, False]]], [[[True, True], [True, True]]]])
    assert masked_loss(pred, tgt, valid, "l1", "pixel").item() == pytest.approx(8 / 5)  # sparse image: 1/5 weight
    assert masked_loss(pred, tgt, valid, "l1", "image").item() == pytest.approx((4 + 1) / 2)
    # an image with no valid pixel is left out, not counted as zero error
    none = torch.cat([valid, torch.zeros(1, 1, 2, 2, dtype=torch.bool)])
    three = torch.cat([tgt, torch.full((1, 1, 2, 2), 7.0)])
    assert masked_loss(torch.zeros(3, 1, 2, 2), three, none, "l1", "image").item() == pytest.approx(2.5)
    with pytest.raises(ValueError, match="reduction"):
        masked_loss(pred, tgt, valid, "l1", "sum")


def test_loss_reduction_reaches_both_objectives():
    unet = build_unet(ModelConfig(preset="tiny", sample_size=16), 1)
    b = batch()
    b["valid"][0] = False
    b["valid"][0, :, :2, :2] = True  # one image with little ground truth
    for fn in (lambda cfg: regression_loss(unet, b, cfg)[0],
               lambda cfg: diffusion_loss(unet, make_train_scheduler(cfg), b, cfg, torch.Generator().manual_seed(0))[0]):
        pix = fn(DiffusionConfig(prediction_type="sample"))
        img = fn(DiffusionConfig(prediction_type="sample", loss_reduction="image"))
        assert torch.isfinite(img) and not torch.isclose(pix, img)


def test_unshifted_timesteps_are_the_old_uniform_draws():
    a = sample_timesteps(64, 1000, 1.0, torch.Generator().manual_seed(3))
    b = torch.randint(0, 1000, (64,), generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_shifted_timesteps_lean_toward_pure_noise():
    t = sample_timesteps(200_000, 1000, 3.0, torch.Generator().manual_seed(0))
    assert t.dtype == torch.long and int(t.min()) >= 0 and int(t.max()) <= 999
    # u > 0.75 maps above 0.9 when shift = 3: a quarter of the draws, against a tenth when uniform
    assert float((t >= 900).float().mean()) == pytest.approx(0.25, abs=0.01)
    assert float(t.float().median()) == pytest.approx(750, abs=5)
    again = sample_timesteps(200_000, 1000, 3.0, torch.Generator().manual_seed(0))
    assert torch.equal(t, again)


@pytest.mark.parametrize("ptype", ["epsilon", "v_prediction", "sample"])
def test_target_and_x0_are_inverse(ptype):
    sched = make_train_scheduler(DiffusionConfig(prediction_type=ptype))
    x0, noise = torch.rand(4, 1, 8, 8) * 2 - 1, torch.randn(4, 1, 8, 8)
    t = torch.tensor([1, 100, 500, 900])
    x_t = sched.add_noise(x0, noise, t)
    tgt = target_for(x0, x_t, t, sched, ptype)
    assert torch.allclose(pred_to_x0(tgt, x_t, t, sched, ptype), x0, atol=1e-3)
    want = {"epsilon": noise, "v_prediction": sched.get_velocity(x0, noise, t), "sample": x0}[ptype]
    assert torch.allclose(tgt, want, atol=1e-3)


@pytest.mark.parametrize("ptype", ["epsilon", "v_prediction", "sample"])
def test_loss_is_deterministic_and_differentiable(ptype):
    unet = build_unet(ModelConfig(preset="tiny", sample_size=16), 1)
    cfg = DiffusionConfig(prediction_type=ptype)
    sched = make_train_scheduler(cfg)
    a, _ = diffusion_loss(unet, sched, batch(), cfg, torch.Generator().manual_seed(7))
    b, _ = diffusion_loss(unet, sched, batch(), cfg, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    a.backward()
    assert unet.conv_in.weight.grad is not None and unet.conv_in.weight.grad.abs().sum() > 0


def test_sud_path_runs_and_differs():
    unet = build_unet(ModelConfig(preset="tiny", sample_size=16), 1)
    plain_cfg, sud_cfg = DiffusionConfig(sud_prob=0.0), DiffusionConfig(sud_prob=1.0)
    sched = make_train_scheduler(plain_cfg)
    plain, s0 = diffusion_loss(unet, sched, batch(), plain_cfg, torch.Generator().manual_seed(1))
    sud, s1 = diffusion_loss(unet, sched, batch(), sud_cfg, torch.Generator().manual_seed(1))
    assert s0["sud_fraction"] == 0.0 and s1["sud_fraction"] == 1.0
    assert torch.isfinite(sud) and not torch.allclose(plain, sud)
    sud.backward()


def test_sud_with_perfect_model_equals_plain():
    """If the first pass recovers x0 exactly, the unrolled input and target equal the plain ones."""
    cfg = DiffusionConfig(prediction_type="v_prediction", sud_prob=1.0)
    sched = make_train_scheduler(cfg)
    x0, noise, t = torch.rand(2, 1, 8, 8) * 2 - 1, torch.randn(2, 1, 8, 8), torch.tensor([50, 600])
    x_t = sched.add_noise(x0, noise, t)
    x_sud = sched.add_noise(x0, noise, t)  # re-noising a perfect x0_hat
    assert torch.allclose(target_for(x0, x_sud, t, sched, "v_prediction"), sched.get_velocity(x0, noise, t), atol=1e-3)
    assert torch.equal(x_t, x_sud)


def test_regression_loss():
    unet = build_unet(ModelConfig(preset="tiny", sample_size=16), 1)
    loss, _ = regression_loss(unet, batch(), DiffusionConfig())
    assert loss.ndim == 0 and torch.isfinite(loss)
