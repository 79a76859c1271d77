"""Training on registry data: ranks of a two-process (gloo) run on a mixture draw different noise; a killed run
resumes bit-exactly on a ``shards:`` stream; a mixture resumes exactly; the shared real frames train (when present)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from depthgen.data.convert import main as convert_main
from depthgen.data.registry import open_dataset
from depthgen.train import main as train_main

from .test_train import same, weights
from .test_trainer import _free_port

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "configs" / "depthgen" / "tiny.yaml")
REAL = ROOT.parent / "shared" / "data" / "real-7scenes-redkitchen"
MIX = "data.mix=synthetic:8:16@0.7,synthetic:6:16@0.3"
FAST = ["model.sample_size=16", "train.batch_size=2", "stage=finetune", "train.max_steps=4", "--no-progress"]

SPY = textwrap.dedent('''
    import json, os, sys
    import torch
    from depthgen.common.config import load_config
    from depthgen.training.recipe import Recipe
    from depthgen.training.task import DepthGenTask
    from depthgen.training.trainer import train

    seen = []

    class Spy(DepthGenTask):
        def loss(self, model, batch, generator):
            copy = torch.Generator().manual_seed(0)
            copy.set_state(generator.get_state())
            seen.append(torch.randn(4, generator=copy).tolist())
            return super().loss(model, batch, generator)

    out = sys.argv[2]
    recipe = load_config(Recipe, sys.argv[1], [f"train.output_dir={out}", *sys.argv[3:]])
    train(Spy(recipe), progress=False)
    with open(os.path.join(out, f"noise-{os.environ.get('RANK', '0')}.json"), "w") as f:
        json.dump(seen, f)
''')


def test_two_ranks_on_a_mixture_draw_different_noise(tmp_path):
    accelerate = shutil.which("accelerate")
    if accelerate is None:
        pytest.skip("the accelerate launcher is not on PATH")
    script = tmp_path / "spy.py"
    script.write_text(SPY)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    if "lo" in {name for _, name in socket.if_nameindex()}:
        env["GLOO_SOCKET_IFNAME"] = "lo"
    out = tmp_path / "run"
    cmd = [accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--main_process_ip", "127.0.0.1", "--main_process_port", str(_free_port()), "--mixed_precision", "no",
           "--dynamo_backend", "no", str(script), TINY, str(out), MIX, "model.sample_size=16", "train.batch_size=2",
           "stage=finetune", "train.max_steps=2", "train.checkpoint_every=2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        pytest.fail(f"two-process training did not finish: {err[-3000:]}")
    assert proc.returncode == 0, err[-4000:]
    a, b = (json.loads((out / f"noise-{r}.json").read_text()) for r in (0, 1))
    assert len(a) == len(b) == 2
    assert a[0] != b[0] and a[1] != b[1] and a[0] != a[1]  # per rank and per step


def test_killed_run_resumes_bit_exactly_on_a_shards_stream(tmp_path):
    assert convert_main(["synthetic:12:16", "--out", str(tmp_path / "shards"), "--shard-size", "5"]) == 0
    common = [f"data.spec=shards:{tmp_path / 'shards'}", "diffusion.sud_prob=0.5", *FAST]
    assert train_main(["--config", TINY, f"train.output_dir={tmp_path / 'a'}", *common]) == 0
    assert train_main(["--config", TINY, f"train.output_dir={tmp_path / 'b'}", *common, "--max-steps", "2"]) == 0
    assert train_main(["--config", TINY, f"train.output_dir={tmp_path / 'b'}", *common, "--resume"]) == 0
    assert same(weights(tmp_path / "a" / "checkpoint-4"), weights(tmp_path / "b" / "checkpoint-4"))


def test_mixture_resumes_exactly_and_draws_both_sources(tmp_path):
    from depthgen.common.config import load_config
    from depthgen.training.data import MixtureBatchSampler, build_source
    from depthgen.training.recipe import Recipe

    recipe = load_config(Recipe, TINY, [MIX, "model.sample_size=16"])
    mixture = build_source(recipe)
    it = iter(MixtureBatchSampler(mixture, 4, seed=3))
    stream = [next(it) for _ in range(50)]
    resumed = iter(MixtureBatchSampler(mixture, 4, seed=3, start_batch=20))
    assert [next(resumed) for _ in range(30)] == stream[20:]
    first = sum(k < 8 for batch in stream for k, _ in batch) / 200
    assert 0.6 < first < 0.8  # weight 0.7 on the first source
    assert train_main(["--config", TINY, f"train.output_dir={tmp_path / 'run'}", MIX, *FAST, "--max-steps", "2"]) == 0


@pytest.mark.skipif(not REAL.is_dir(), reason="the shared real frames are not on this machine")
def test_real_frames_below_600_select_and_train(tmp_path):
    train = open_dataset(f"folder:{REAL}?frames=0-599")
    held_out = open_dataset(f"folder:{REAL}?frames=600-999", "test")
    assert len(train) == 150 and len(held_out) == 100
    assert all(int(n) < 600 for n in train.names) and all(int(n) >= 600 for n in held_out.names)
    assert train[0]["K"][0, 0] == 525.0
    mix = f"data.mix=synthetic:8:16@0.5,folder:{REAL}?frames=0-599@0.5"
    assert train_main(["--config", TINY, f"train.output_dir={tmp_path / 'run'}", mix, *FAST, "--max-steps", "2"]) == 0
    assert torch.load(tmp_path / "run" / "checkpoint-2" / "rng.pt", weights_only=False) is not None
