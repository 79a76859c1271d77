"""The paper-scale recipes (configs/depthgen/paper_*.yaml): they load, their model has the documented size and
forward cost (measured on the meta device: no memory, no time), and their non-square form trains with a tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from depthgen.common.config import load_config
from depthgen.training.recipe import Recipe, target_channels, train_hw

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "depthgen"
# What docs/training/depthgen.md ("The paper's recipes") states: parameters, forward GFLOP per image (FlopCounterMode
# counts a multiply-add as 2 FLOPs) at the recipe's training size.
DOCUMENTED = {"paper_nyu": (346.7e6, 1558.0), "paper_kitti": (346.7e6, 2184.0)}


def paper_model_cost(name: str) -> tuple[int, float]:
    """(parameters, forward GFLOP for one example) of the recipe's UNet, built on the meta device."""
    from diffusers import UNet2DModel
    from torch.utils.flop_counter import FlopCounterMode

    from depthgen.models.unet import cond_channels, unet_kwargs

    r = load_config(Recipe, CONFIGS / f"{name}.yaml")
    c = target_channels(r.stage)
    with torch.device("meta"):
        unet = UNet2DModel(**unet_kwargs(r.model, c))
        x = torch.zeros(1, cond_channels(r.model) + c, *train_hw(r))
        t = torch.zeros(1, dtype=torch.long)
        counter = FlopCounterMode(display=False)
        with counter:
            unet(x, t, class_labels=t)
    return sum(p.numel() for p in unet.parameters()), counter.get_total_flops() / 1e9


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_paper_model_size_and_forward_flops_are_the_documented_ones(name):
    params, gflop = paper_model_cost(name)
    print(f"{name}: {params:,} parameters, {gflop:.0f} GFLOP forward per example")
    assert params == pytest.approx(DOCUMENTED[name][0], rel=1e-3)
    assert gflop == pytest.approx(DOCUMENTED[name][1], rel=1e-2)


def test_paper_recipes_load_with_their_stages_and_sizes():
    pre = load_config(Recipe, CONFIGS / "paper_pretrain.yaml")
    nyu = load_config(Recipe, CONFIGS / "paper_nyu.yaml")
    kitti = load_config(Recipe, CONFIGS / "paper_kitti.yaml")
    assert pre.stage == "pretrain" and pre.data.mix.startswith("images:") and train_hw(pre) == (240, 320)
    for r, hw in ((nyu, (240, 320)), (kitti, (176, 608))):
        assert r.stage == "finetune" and r.train.init_from == "runs/paper_pretrain" and train_hw(r) == hw
        assert r.diffusion.infill and r.diffusion.loss == "l1" and r.diffusion.sud_prob > 0
        assert r.model.preset == "paper" and r.train.val_every > 0


def test_data_size_must_suit_the_model():
    with pytest.raises(ValueError, match="multiples of 16"):
        load_config(Recipe, CONFIGS / "paper_nyu.yaml", ["data.size=328x240"])
    with pytest.raises(ValueError, match="data.size"):
        load_config(Recipe, CONFIGS / "paper_nyu.yaml", ["data.size=320by240"])


TINY = ["model.preset=tiny", "model.sample_size=48", "data.size=48x32", "train.batch_size=2", "train.max_steps=2",
        "train.init_from=null", "train.warmup_steps=0", "train.checkpoint_every=2", "train.mixed_precision='no'",
        "train.log_with=none", "data.num_workers=0", "data.mix=null", "data.spec=synthetic:8:40"]


@pytest.mark.parametrize("name", ["paper_pretrain", "paper_nyu"])
def test_tiny_non_square_form_trains_two_steps(tmp_path, name):
    from depthgen.train import main
    from depthgen.training.data import make_loader

    extra = ["train.val_every=2", "train.val_data=synthetic:2:24", "train.val_samples=1", "train.val_steps=1"]
    over = [*TINY, f"train.output_dir={tmp_path / name}", *(extra if name == "paper_nyu" else [])]
    batch = next(iter(make_loader(load_config(Recipe, CONFIGS / f"{name}.yaml", over))))
    assert batch["cond"].shape[-2:] == (32, 48) and batch["target"].shape[-2:] == (32, 48)
    assert main(["--config", str(CONFIGS / f"{name}.yaml"), *over, "--no-progress"]) == 0
    assert (tmp_path / name / "last").read_text().strip() == "checkpoint-2"


def test_non_square_model_predicts_at_its_training_size(tmp_path, monkeypatch):
    """A model trained at data.size=48x32 is exported with resolution [32, 48] and its pipeline feeds the UNet
    32x48 inputs (not a 48x48 square), for depth and for depth completion."""
    from depthgen import DepthGenPipeline
    from depthgen.train import main

    over = [*TINY, f"train.output_dir={tmp_path / 'run'}", f"train.export_dir={tmp_path / 'pipe'}"]
    assert main(["--config", str(CONFIGS / "paper_nyu.yaml"), *over, "--no-progress"]) == 0
    pipe = DepthGenPipeline.from_pretrained(tmp_path / "pipe")
    assert pipe.config.resolution == [32, 48]
    seen = []
    forward = pipe.unet.forward
    monkeypatch.setattr(pipe.unet, "forward", lambda x, *a, **k: (seen.append(tuple(x.shape[-2:])), forward(x, *a, **k))[1])
    image = torch.rand(60, 90, 3).numpy()
    out = pipe(image, num_samples=1, num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    assert out.depth.shape == (60, 90) and set(seen) == {(32, 48)}
    known = out.depth.copy()
    mask = torch.zeros(60, 90, dtype=torch.bool).numpy()
    mask[:, :30] = True
    done = pipe.complete(image, known, mask, num_samples=1, num_inference_steps=2,
                         generator=torch.Generator().manual_seed(0))
    assert (done.depth[mask] == known[mask]).all()
