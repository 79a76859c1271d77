"""Watching and scaling a training run: the TensorBoard tracker, validation every N steps, gradient
checkpointing, torch.compile, and resuming from an output folder copied to another path."""

from __future__ import annotations

import csv
import shutil

import pytest
import torch

from tests.depthgen.test_train import TINY, run, same, weights


def test_tensorboard_tracker_writes_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    out = tmp_path / "run"
    assert run(out, "train.max_steps=2", "train.log_with=tensorboard") == 0
    assert list(out.glob("tiny/**/events.out.tfevents.*")), sorted(p.name for p in out.rglob("*"))


def test_validation_logs_rel_delta1_and_writes_images(tmp_path):
    out = tmp_path / "run"
    assert run(out, "stage=finetune", "train.max_steps=4", "train.val_every=2", "train.val_data=synthetic:3:16",
               "train.val_samples=2", "train.val_steps=2") == 0
    rows = list(csv.DictReader(open(out / "val.csv")))
    assert [int(r["step"]) for r in rows] == [2, 4]
    for r in rows:
        assert float(r["abs_rel"]) > 0 and 0.0 <= float(r["delta1"]) <= 1.0
    for step in (2, 4):
        names = sorted(p.name for p in (out / "val" / f"step-{step}").iterdir())
        assert names == ["00-pred.png", "00-true.png", "01-pred.png", "01-true.png"]


def test_validation_bad_settings_exit_2(tmp_path, capsys):
    assert run(tmp_path / "a", "train.val_every=2") == 2  # no val_data
    assert "train.val_data" in capsys.readouterr().err
    assert run(tmp_path / "b", "train.val_every=2", "train.val_data=synthetic:3:16") == 2  # a Palette stage
    assert "depth stage" in capsys.readouterr().err


def _loss_and_grads(checkpointing: bool) -> tuple[float, list[torch.Tensor]]:
    from depthgen.common.config import load_config
    from depthgen.training.recipe import Recipe
    from depthgen.training.task import DepthGenTask
    from depthgen.training.trainer import _speed_options, seed_generator

    recipe = load_config(Recipe, TINY, ["stage=finetune", "model.sample_size=16", "train.batch_size=2",
                                        f"train.gradient_checkpointing={str(checkpointing).lower()}"])
    task = DepthGenTask(recipe)
    model = task.build_model().train()
    _speed_options(model, recipe.train)
    assert model.is_gradient_checkpointing == checkpointing
    batch = next(task.batches(seed_generator(0), 0, 0, 1))
    loss = task.loss(model, batch, seed_generator(1))
    loss.backward()
    return float(loss.detach()), [p.grad.clone() for p in model.parameters()]


def test_gradient_checkpointing_gives_the_same_loss_and_gradients():
    loss_a, grads_a = _loss_and_grads(False)
    loss_b, grads_b = _loss_and_grads(True)
    assert loss_a == pytest.approx(loss_b, rel=1e-6, abs=1e-7)
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def _compiles() -> str | None:
    """None when torch.compile works here, else why not."""
    try:
        torch.compile(lambda x: x * 2 + 1)(torch.ones(3))
    except Exception as e:  # noqa: BLE001 - any backend failure (no C++ compiler, unsupported platform)
        return f"torch.compile does not work on this machine: {type(e).__name__}: {str(e)[:120]}"
    return None


def test_compile_option_trains_a_step(tmp_path):
    why = _compiles()
    if why:
        pytest.skip(why)
    out = tmp_path / "run"
    assert run(out, "train.max_steps=1", "train.compile=true") == 0
    assert (out / "checkpoint-1" / "model.safetensors").is_file()


def test_resume_from_a_copy_at_another_path_equals_uninterrupted(tmp_path):
    """A replaced node: the output folder is copied elsewhere, the old one is gone, training continues there."""
    common = ["stage=finetune", "train.max_steps=4", "diffusion.sud_prob=0.5"]
    assert run(tmp_path / "straight", *common) == 0
    assert run(tmp_path / "old", *common, steps=2) == 0
    shutil.copytree(tmp_path / "old", tmp_path / "new" / "moved")
    shutil.rmtree(tmp_path / "old")
    assert run(tmp_path / "new" / "moved", *common, "--resume") == 0
    moved = tmp_path / "new" / "moved"
    assert (moved / "last").read_text().strip() == "checkpoint-4"
    assert same(weights(tmp_path / "straight" / "checkpoint-4"), weights(moved / "checkpoint-4"))
    assert not (tmp_path / "old").exists()
