"""The training CLI end to end on synthetic data with the tiny recipe: checkpoints, exact resume,
signal handling, export, loss decrease, bad input."""

import csv
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from depthgen.train import main

TINY = str(Path(__file__).resolve().parents[2] / "configs" / "depthgen" / "tiny.yaml")
FAST = ["model.sample_size=16", "train.batch_size=2", "data.live_size=16"]


def run(out, *extra, steps=None):
    argv = ["--config", TINY, f"train.output_dir={out}", *FAST, *extra, "--no-progress"]
    if steps is not None:
        argv += ["--max-steps", str(steps)]
    return main(argv)


def weights(ckpt):
    return {**{"m." + k: v for k, v in load_file(str(ckpt / "model.safetensors")).items()},
            **{"e." + k: v for k, v in load_file(str(ckpt / "ema.safetensors")).items()}}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_checkpoints_log_and_export(tmp_path):
    out = tmp_path / "run"
    assert run(out, "train.max_steps=4", "train.checkpoint_every=1", "train.keep_checkpoints=2") == 0
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-3", "checkpoint-4"]
    assert (out / "last").read_text().strip() == "checkpoint-4"
    for f in ("model.safetensors", "ema.safetensors", "optimizer.pt", "lr_scheduler.pt", "rng.pt", "config.yaml"):
        assert (out / "checkpoint-4" / f).is_file()
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert set(rows[0]) == {"step", "loss", "lr", "wall_time", "world_size"}
    from depthgen.models.palette_pipeline import PalettePipeline

    pipe = PalettePipeline.from_pretrained(out / "pipeline")
    mask = np.zeros((16, 16), bool)
    mask[4:9, 4:9] = True
    img = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    assert np.array_equal(pipe.inpaint(img, mask, num_inference_steps=1)[~mask], img[~mask])


@pytest.mark.parametrize("stage", ["pretrain", "finetune"])
def test_resume_equals_uninterrupted(tmp_path, stage):
    common = [f"stage={stage}", "train.max_steps=6", "diffusion.sud_prob=0.5", "train.grad_accum=2"]
    assert run(tmp_path / "a", *common, steps=4) == 0
    assert run(tmp_path / "b", *common, steps=2) == 0
    assert run(tmp_path / "b", *common, "--resume", steps=4) == 0
    assert same(weights(tmp_path / "a" / "checkpoint-4"), weights(tmp_path / "b" / "checkpoint-4"))
    la = [r["loss"] for r in csv.DictReader(open(tmp_path / "a" / "log.csv"))]
    lb = [r["loss"] for r in csv.DictReader(open(tmp_path / "b" / "log.csv"))]
    assert la == lb and len(la) == 4


def test_sigterm_checkpoints_and_resumes(tmp_path, monkeypatch):
    from depthgen.models import diffusion

    calls = {"n": 0}
    orig = diffusion.diffusion_loss

    def loss_then_signal(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return orig(*a, **k)

    common = ["train.max_steps=4", "train.checkpoint_every=100"]
    monkeypatch.setattr(diffusion, "diffusion_loss", loss_then_signal)
    assert run(tmp_path / "b", *common) == 130
    monkeypatch.setattr(diffusion, "diffusion_loss", orig)
    assert (tmp_path / "b" / "last").read_text().strip() == "checkpoint-2"
    assert run(tmp_path / "b", *common, "--resume") == 0
    assert run(tmp_path / "a", *common) == 0
    assert same(weights(tmp_path / "a" / "checkpoint-4"), weights(tmp_path / "b" / "checkpoint-4"))


def test_finetune_from_pretrain_and_export_only(tmp_path):
    assert run(tmp_path / "pre", "train.max_steps=2") == 0
    assert run(tmp_path / "ft", "stage=finetune", f"train.init_from={tmp_path / 'pre'}", "train.max_steps=2",
               "diffusion.sud_prob=1.0") == 0
    assert main(["--export-only", "--from", str(tmp_path / "ft"), "--out", str(tmp_path / "exp")]) == 0
    from depthgen.models.depth_pipeline import DepthGenPipeline

    pipe = DepthGenPipeline.from_pretrained(tmp_path / "exp")
    assert pipe(np.zeros((10, 12, 3), np.float32), num_samples=1, num_inference_steps=1).depth.shape == (10, 12)
    # the fine-tuned model started from the adapted pretrain weights: its conv_out began as the RGB mean
    pre = load_file(str(tmp_path / "pre" / "checkpoint-2" / "ema.safetensors"))
    ft = load_file(str(tmp_path / "ft" / "checkpoint-2" / "model.safetensors"))
    assert ft["conv_out.weight"].shape[0] == 1
    assert (ft["conv_out.weight"] - pre["conv_out.weight"].mean(0, keepdim=True)).abs().max() < 0.05


def test_loss_falls_on_toy_data(tmp_path):
    out = tmp_path / "r"
    assert run(out, "stage=regression", "train.max_steps=40", "train.batch_size=8", "train.lr=3e-3",
               "train.checkpoint_every=100") == 0
    loss = [float(r["loss"]) for r in csv.DictReader(open(out / "log.csv"))]
    assert np.mean(loss[-8:]) < 0.6 * np.mean(loss[:8])


def test_diffusion_loss_falls_on_toy_data(tmp_path):
    out = tmp_path / "d"
    assert run(out, "stage=finetune", "train.max_steps=40", "train.batch_size=8", "train.lr=3e-3",
               "train.checkpoint_every=100") == 0
    loss = [float(r["loss"]) for r in csv.DictReader(open(out / "log.csv"))]
    assert np.mean(loss[-10:]) < 0.8 * np.mean(loss[:10])


def test_bad_input_exit_2(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "nope.yaml")]) == 2
    assert main(["--config", TINY, "train.lr_schedule=wavy"]) == 2
    assert main(["--config", TINY, "data.kind=procedural_shards", f"data.path={tmp_path / 'none'}",
                 f"train.output_dir={tmp_path / 'x'}"]) == 2
    assert main(["--export-only", "--from", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert run(tmp_path / "r", "train.max_steps=1") == 0
    assert run(tmp_path / "r", "train.max_steps=1") == 2  # would overwrite a run: needs --resume
    err = capsys.readouterr().err
    assert "--resume" in err and "not found" in err and "lr_schedule" in err and "data.path" in err


class FakeShards(torch.utils.data.Dataset):
    """Shard-like items (the ShardDataset contract) at 24x24: sensor holes, an outdoor sky, intrinsics."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        rng = np.random.default_rng(i)
        depth = rng.uniform(2, 6, (24, 24)).astype(np.float32)
        depth[:5] = 0  # sky
        sensor = depth.copy()
        sensor[10:14, 10:14] = 0
        return {"rgb": (rng.random((24, 24, 3)) * 255).astype(np.uint8), "depth": depth, "valid": depth > 0,
                "sensor_depth": sensor, "outdoor": True, "caption": "x",
                "K": np.array([[20.0, 0, 12], [0, 20.0, 12], [0, 0, 1]])}


def recipe(*over):
    from depthgen.common.config import load_config
    from depthgen.training.recipe import Recipe

    return load_config(Recipe, TINY, ["model.sample_size=16", "data.hflip=false", *over])


def test_depth_examples_infill_and_mask():
    from depthgen.training.data import TrainingExamples

    ex = TrainingExamples(FakeShards(), recipe("stage=finetune"))[(1, 7)]
    assert ex["cond"].shape == (4, 16, 16) and ex["target"].shape == (1, 16, 16) and int(ex["task"]) == 4
    assert (ex["cond"][3] == 0).all()
    valid = ex["valid"][0]
    assert not valid[:3].any() and valid[8:].any() and not valid.all()
    assert (ex["target"][0, :3] == 1.0).all()  # sky -> d_max -> +1 in model space
    assert ex["target"].min() > -1  # holes were infilled, not left at depth 0 (-1)
    raw = TrainingExamples(FakeShards(), recipe("stage=finetune", "diffusion.infill=false"))[(1, 7)]
    assert (raw["target"][0][~raw["valid"][0]] == -1).all()


def test_palette_examples_and_seeded_keys():
    from depthgen.training.data import StepBatchSampler, TrainingExamples

    ds = TrainingExamples(FakeShards(), recipe("stage=inpaint"))
    a, b = ds[(2, 11)], ds[(2, 11)]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert a["target"].shape == (3, 16, 16) and int(a["task"]) == 1 and a["cond"][3].any()
    s1 = iter(StepBatchSampler(5, 3, seed=0))
    first = [next(s1) for _ in range(4)]
    later = next(iter(StepBatchSampler(5, 3, seed=0, start_batch=3)))
    assert later == first[3]
    assert sorted(k[0] for k in first[0] + first[1][:2]) == [0, 1, 2, 3, 4]  # one epoch = a permutation


def test_hole_loss_region_scores_only_the_pixels_to_fill():
    from depthgen.training.data import TrainingExamples

    whole = TrainingExamples(FakeShards(), recipe("stage=inpaint"))[(2, 11)]
    hole = TrainingExamples(FakeShards(), recipe("stage=inpaint", "diffusion.loss_region=hole"))[(2, 11)]
    assert whole["valid"].all()  # the default scores every pixel
    assert torch.equal(hole["cond"], whole["cond"]) and torch.equal(hole["target"], whole["target"])
    assert hole["valid"].dtype == torch.bool and hole["valid"].any() and not hole["valid"].all()
    assert torch.equal(hole["valid"], whole["cond"][3:] > 0.5)  # exactly the mask channel's hole
    # tasks without a hole keep every pixel
    col = TrainingExamples(FakeShards(), recipe("stage=pretrain", "tasks.names=[colorize]", "tasks.weights=[1.0]",
                                                "diffusion.loss_region=hole"))[(2, 11)]
    assert col["valid"].all()
