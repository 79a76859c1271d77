"""The GPU training script (scripts/train_gpu.sh), rehearsed on the CPU with a tiny budget: shards, both runs
trained in resumed chunks, exported pipelines, test-split scores; a second call finds everything done."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "train_gpu.sh"
TINY = {"N": "4", "SIZE": "16x16", "WORKERS": "1", "STEPS": "2", "CHUNK": "1", "PRECISION": "no",
        "DATA_WORKERS": "0", "EVAL_N": "1", "MINUTES": "10", "PYTHON": sys.executable,
        "EXTRA": "model.preset=tiny model.sample_size=16 train.batch_size=2 train.init_from=null "
                 "train.warmup_steps=0 train.checkpoint_every=1 train.log_every=1"}


def script(*args, **env):
    full = {**os.environ, "OMP_NUM_THREADS": "1", **TINY, **env}
    return subprocess.run(["bash", str(SCRIPT), *map(str, args)], cwd=ROOT, env=full, capture_output=True,
                          text=True, timeout=900)


def check(res):
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert "all done" in res.stdout


@pytest.mark.skipif(shutil.which("timeout") is None, reason="needs coreutils timeout")
def test_tiny_rehearsal_writes_shards_trains_in_resumed_chunks_and_exports(tmp_path):
    """One run, two 1-step training calls (the second resumes), no scoring: the script's own logic."""
    from depthgen.models.depth_pipeline import DepthGenPipeline

    work, weights = tmp_path / "work", tmp_path / "weights"
    res = script(work, weights, RUNS="depthgen_v2", EVAL_N="0")
    check(res)
    assert len(list(work.glob("data/*/shard-*.npz"))) == 1
    assert res.stdout.count("training depthgen_v2 from step") == 2 and "from step 1" in res.stdout
    assert (work / "runs" / "depthgen_v2" / "last").read_text().strip() == "checkpoint-2"
    pipe = DepthGenPipeline.from_pretrained(weights / "depthgen_v2")
    assert pipe.config.objective == "diffusion" and pipe.fov_conditioned and pipe.config.canonical_fov_deg == 60.0
    assert np.isfinite(pipe(np.zeros((16, 16, 3), np.float32), num_samples=1, num_inference_steps=1,
                            fov_deg=70.0).depth).all()
    again = script(work, weights, RUNS="depthgen_v2", EVAL_N="0")  # everything is there: nothing to do
    check(again)
    assert "training" not in again.stdout and "writing" not in again.stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("timeout") is None, reason="needs coreutils timeout")
def test_full_rehearsal_both_runs_and_scores(tmp_path):
    """Everything the GPU call does, at the tiny budget (about 3 minutes on the loaded 2-core CPU)."""
    from depthgen.models.depth_pipeline import DepthGenPipeline

    work, weights = tmp_path / "work", tmp_path / "weights"
    check(script(work, weights))
    for run, objective in (("depthgen_v2", "diffusion"), ("regression_v2", "regression")):
        assert (work / "runs" / run / "last").read_text().strip() == "checkpoint-2"
        assert DepthGenPipeline.from_pretrained(weights / run).config.objective == objective
        for part in ("indoor", "outdoor"):
            assert (weights / "eval" / f"{run}-{part}" / "results.json").is_file()


@pytest.mark.parametrize("run", ["depthgen_v2", "regression_v2"])
def test_every_run_of_the_script_is_a_valid_recipe(run):
    from depthgen.common.config import load_config
    from depthgen.training.recipe import Recipe

    body = SCRIPT.read_text()
    func = body[body.index("overrides() {"):body.index("\n}\n", body.index("overrides() {")) + 2]
    sets = subprocess.run(["bash", "-c", f"{func}\noverrides {run}"], capture_output=True, text=True, check=True)
    recipe = load_config(Recipe, ROOT / "configs" / "depthgen" / "depthgen_v2.yaml", sets.stdout.split())
    assert recipe.model.fov_conditioning and recipe.depth.canonical_fov_deg == 60.0
    if run == "regression_v2":
        assert recipe.stage == "regression" and recipe.train.init_from == "assets/regression"
    else:
        assert recipe.stage == "finetune" and recipe.train.init_from == "assets/depthgen"
    assert (ROOT / recipe.train.init_from / "model_index.json").is_file()


def test_out_of_time_and_bad_use(tmp_path):
    res = script(tmp_path / "w", MINUTES="0")
    assert res.returncode == 3 and "run the same command again" in res.stdout
    assert script().returncode == 2
    res = script(tmp_path / "w2", RUNS="nope", N="1", MINUTES="0")
    assert res.returncode == 3  # no time: stops before anything, unknown run names are found when reached


@pytest.mark.skipif(shutil.which("timeout") is None, reason="needs coreutils timeout")
def test_paper_lane_pretrains_then_finetunes_on_a_dataset_root(tmp_path):
    """RUNS="paper_pretrain paper_nyu" with NYU_ROOT: pre-training on the shards + NYU's RGB, then the NYU
    fine-tune from it, each in resumed 1-step calls, at the tiny budget and a non-square-capable data.size."""
    from depthgen.models.depth_pipeline import DepthGenPipeline
    from tests.depthgen.dataset_layouts import nyu_raw

    nyu_raw(tmp_path / "nyu")
    work, weights = tmp_path / "work", tmp_path / "weights"
    extra = TINY["EXTRA"] + " data.size=16x16 train.val_every=0 train.log_with=none"
    res = script(work, weights, RUNS="paper_pretrain paper_nyu", EVAL_N="0", NYU_ROOT=str(tmp_path / "nyu"),
                 NYU_TRAIN_LIST="train.txt", EXTRA=extra)
    check(res)
    assert res.stdout.count("training paper_nyu from step") == 2
    assert (work / "runs" / "paper_nyu" / "last").read_text().strip() == "checkpoint-2"
    assert DepthGenPipeline.from_pretrained(weights / "paper_nyu").config.prediction_type == "epsilon"


@pytest.mark.parametrize("run", ["paper_pretrain", "paper_nyu", "paper_kitti"])
def test_paper_runs_of_the_script_are_valid_recipes(run):
    from depthgen.common.config import load_config
    from depthgen.training.recipe import Recipe

    body = SCRIPT.read_text()
    func = body[body.index("overrides() {"):body.index("\n}\n", body.index("overrides() {")) + 2]
    env = "data=/w/data WORK=/w NYU_ROOT=/d/nyu KITTI_ROOT=/d/kitti PHOTOS_ROOT=/d/photos NYU_TRAIN_LIST=a.txt " \
          "KITTI_TRAIN_LIST=b.txt KITTI_TEST_LIST=c.txt"
    sets = subprocess.run(["bash", "-c", f"{env}\n{func}\noverrides {run}"], capture_output=True, text=True,
                          check=True)
    recipe = load_config(Recipe, ROOT / "configs" / "depthgen" / f"{run}.yaml", sets.stdout.split())
    if run == "paper_pretrain":
        assert recipe.data.mix.startswith("images:/d/photos@") and "kitti:/d/kitti/raw" in recipe.data.mix
    else:
        assert recipe.train.init_from == "/w/runs/paper_pretrain" and recipe.data.spec.startswith(run[6:] + ":/d/")


@pytest.mark.skipif(shutil.which("timeout") is None, reason="needs coreutils timeout")
def test_tiny_rehearsal_of_the_latent_image_models(tmp_path):
    """The latent lane: captioned renders, their latents, the text-to-image model, then the inpainting model
    started from it; both exported with the autoencoder."""
    from text3d.models.inpaint import TextInpaintPipeline
    from text3d.models.t2i import TextToImagePipeline

    work, weights = tmp_path / "work", tmp_path / "weights"
    res = script(work, weights, RUNS="t2i_latent inpaint_latent", LATENT_N="4", LATENT_SIZE="64x64", CHUNK="",
                 EXTRA="model.preset=tiny model.sample_size=8 train.batch_size=2 train.warmup_steps=0 "
                       "train.checkpoint_every=1 train.log_every=1")
    check(res)
    assert (work / "data" / "latents-64x64.safetensors").is_file()
    assert "init_from: " + str(work / "runs" / "t2i_latent") in (work / "runs" / "inpaint_latent" / "config.yaml").read_text()
    t2i = TextToImagePipeline.from_pretrained(weights / "t2i_latent")
    inpaint = TextInpaintPipeline.from_pretrained(weights / "inpaint_latent")
    assert t2i.is_latent and inpaint.is_latent and t2i.image_size == inpaint.image_size == 64
