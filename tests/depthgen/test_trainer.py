"""The shared trainer (depthgen.training.trainer): exact resume, STOP file, and real two-process training."""

from __future__ import annotations

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
from safetensors.torch import load_file

from depthgen.training.config import TrainConfig
from depthgen.training.trainer import rank_slice, seed_generator, train

TOY = textwrap.dedent('''
    from dataclasses import dataclass, field
    from pathlib import Path

    import torch

    from depthgen.training.config import TrainConfig
    from depthgen.training.trainer import rank_slice


    @dataclass
    class ToyRecipe:
        name: str = "toy"
        train: TrainConfig = field(default_factory=TrainConfig)


    class ToyTask:
        """Fit y = x @ W_true with a linear layer; every draw from the trainer's generator."""

        def __init__(self, recipe):
            self.recipe = recipe

        def build_model(self):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.recipe.train.seed)
                return torch.nn.Linear(8, 4)

        def load_init(self, model, state, source):
            model.load_state_dict(state)

        def batches(self, generator, start_step, rank, world_size):
            w_true = torch.linspace(-1, 1, 32).reshape(8, 4)
            n = self.recipe.train.batch_size * world_size
            while True:
                x = torch.randn(n, 8, generator=generator)
                yield rank_slice({"x": x, "y": x @ w_true + 0.1 * torch.randn(n, 4, generator=generator)},
                                 rank, world_size)

        def loss(self, model, batch, generator):
            return torch.nn.functional.mse_loss(model(batch["x"]), batch["y"])

        def export(self, model, target, step):
            from safetensors.torch import save_file

            target.mkdir(parents=True, exist_ok=True)
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(target / "model.safetensors"))
            return target
''')

LAUNCHED = textwrap.dedent('''
    import sys
    sys.path.insert(0, sys.argv[1])
    from toy_task import ToyRecipe, ToyTask
    from depthgen.training.config import TrainConfig
    from depthgen.training.trainer import train
    out, batch = sys.argv[2], int(sys.argv[3])
    cfg = TrainConfig(output_dir=out, batch_size=batch, lr=1e-2, warmup_steps=0, max_steps=3, checkpoint_every=3,
                      log_every=1, ema_decay=0.5)
    result = train(ToyTask(ToyRecipe(train=cfg)), progress=False)
    import os
    rank = int(os.environ.get("RANK", 0))
    open(f"{out}/rank{rank}.txt", "w").write(f"{result.step} {result.world_size}")
''')


@pytest.fixture
def toy(tmp_path, monkeypatch):
    (tmp_path / "toy_task.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    module = importlib.import_module("toy_task")
    yield module
    sys.modules.pop("toy_task", None)


def _task(toy, out: Path, **kw):
    cfg = TrainConfig(output_dir=str(out), batch_size=4, lr=1e-2, warmup_steps=1, max_steps=4, checkpoint_every=2,
                      log_every=1, ema_decay=0.5, **kw)
    return toy.ToyTask(toy.ToyRecipe(train=cfg))


def _weights(ckpt: Path) -> dict[str, torch.Tensor]:
    return load_file(str(ckpt / "model.safetensors"))


def test_resume_is_exact(toy, tmp_path):
    full = train(_task(toy, tmp_path / "full"), progress=False)
    part = train(_task(toy, tmp_path / "part"), stop_step=2, progress=False)
    assert part.step == 2 and part.export is None
    resumed = train(_task(toy, tmp_path / "part"), resume=True, progress=False)
    assert full.step == resumed.step == 4 and resumed.export is not None
    for k, v in _weights(full.checkpoint).items():
        torch.testing.assert_close(_weights(resumed.checkpoint)[k], v, rtol=0, atol=0)
    rows = (tmp_path / "part" / "log.csv").read_text().splitlines()
    assert rows[0] == "step,loss,lr,wall_time,world_size" and [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    with pytest.raises(ValueError, match="already holds checkpoints"):
        train(_task(toy, tmp_path / "full"), progress=False)


def test_stop_file_checkpoints_and_exits(toy, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "STOP").touch()
    result = train(_task(toy, out), progress=False)
    assert result.interrupted and result.step == 1 and result.export is None
    assert (result.checkpoint / "state.json").is_file()
    (out / "STOP").unlink()
    assert train(_task(toy, out), resume=True, progress=False).step == 4


def test_rank_slice_and_seed_rule():
    batch = {"x": torch.arange(8)}
    assert rank_slice(batch, 1, 2)["x"].tolist() == [4, 5, 6, 7]
    assert torch.equal(torch.rand(3, generator=seed_generator(7)), torch.rand(3, generator=seed_generator(7)))


def _free_port() -> int:
    """A TCP port on the loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _launch(tmp_path: Path, out: Path, batch: int, processes: int) -> None:
    script = tmp_path / "launched.py"
    script.write_text(LAUNCHED)
    # the launched ranks import depthgen from this checkout, installed or not
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)}
    cmd = [sys.executable, str(script), str(tmp_path), str(out), str(batch)]
    if processes > 1:
        accelerate = shutil.which("accelerate")
        if accelerate is None:
            pytest.skip("the accelerate launcher is not on PATH")
        # the rendezvous and gloo stay on the loopback, on a port of their own: a CI host's name may resolve to an
        # address gloo cannot reach, and another job on a shared network may hold the default port 29500
        if "lo" in {name for _, name in socket.if_nameindex()}:
            env["GLOO_SOCKET_IFNAME"] = "lo"
        cmd = [accelerate, "launch", "--multi_gpu", "--num_processes", str(processes), "--num_machines", "1",
               "--main_process_ip", "127.0.0.1", "--main_process_port", str(_free_port()),
               "--mixed_precision", "no", "--dynamo_backend", "no", *cmd[1:]]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and every rank it started
        _, err = proc.communicate()
        pytest.fail(f"{processes}-process training did not finish in 240 s; its stderr ends:\n{err[-3000:]}")
    assert proc.returncode == 0, err[-6000:]


def test_two_processes_train_like_one_with_the_global_batch(tmp_path):
    (tmp_path / "toy_task.py").write_text(TOY)
    _launch(tmp_path, tmp_path / "two", batch=4, processes=2)  # 2 ranks x 4 = global batch 8
    _launch(tmp_path, tmp_path / "one", batch=8, processes=1)
    for rank in (0, 1):  # both ranks stepped, and knew there were two of them
        assert (tmp_path / "two" / f"rank{rank}.txt").read_text() == "3 2"
    rows = (tmp_path / "two" / "log.csv").read_text().splitlines()[1:]
    assert len(rows) == 3 and all(r.endswith(",2") for r in rows)
    one, two = _weights(tmp_path / "one" / "checkpoint-3"), _weights(tmp_path / "two" / "checkpoint-3")
    for k in one:  # same mean gradient each step; only float summation order differs
        torch.testing.assert_close(two[k], one[k], rtol=0, atol=1e-5)
