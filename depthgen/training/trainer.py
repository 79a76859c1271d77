"""The one training loop of the project: every model (DepthGen, its regression baseline, the Palette and
text-conditioned inpainting models, text-to-image, super-resolution) trains through ``train``.

Several processes: ``accelerate launch --multi_gpu --num_processes N -m ...`` (or ``torchrun --nproc_per_node N``);
without a GPU they train on the CPU over gloo. (``accelerate launch --cpu --num_processes N`` starts a single
process in accelerate 1.x; the log's ``world_size`` column says how many trained.)

A model supplies a ``TrainingTask``: how to build its network, how to adapt starting weights, its batches,
its loss and its export. The loop owns the rest, once: accelerate (single process, or ``accelerate launch``
with several processes), AdamW, warmup + cosine/constant LR, diffusers ``EMAModel``, gradient clipping and
accumulation, ``output_dir/log.csv``, checkpoints (``depthgen.training.checkpoint``) every ``train.checkpoint_every``
steps, on SIGINT/SIGTERM and on a ``STOP`` file in ``output_dir``, and exact resume.

Randomness: the data generator, seeded with ``train.seed`` (``seed_generator``), is the same on every rank and
saved in every checkpoint; a task draws its batches from it. The loss draws its diffusion noise and timesteps
from a generator of its own per rank and micro-batch, seeded by ``noise_seed(seed, rank, micro_batch)`` (the one
place the rank enters a seed), so ranks draw different noise and a resumed run replays exactly the same noise.
Tasks that hold their data in memory draw the *global* batch (``batch_size x world_size``) on every rank and keep
their own slice (``rank_slice``).

Watching a run: ``log.csv`` always; with ``train.log_with=tensorboard`` the same loss and LR (and the validation
metrics) also go to accelerate's TensorBoard tracker, event files under ``output_dir/<recipe name>/``. With
``train.val_every`` N > 0 the entry point's ``validate`` callable scores the EMA weights every N steps on the main
process (``val.csv``). ``train.gradient_checkpointing`` and ``train.compile`` trade speed or memory; neither changes
what is computed. Checkpoints name their files relative to their folder, so a run continues from a copy of
``output_dir`` at another path (a replaced node).

``train.max_steps`` is the LR schedule's length and the default stop; ``stop_step`` stops earlier without
changing the schedule (2 steps + resume to 4 equals 4 steps in one go). The EMA weights are exported when
``train.max_steps`` is reached, or at any clean stop when an export folder is given.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

import numpy as np
import torch
from accelerate import Accelerator
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from tqdm.auto import tqdm

from depthgen.common.config import save_config
from depthgen.training import checkpoint as ckpt
from depthgen.training.config import TrainConfig

Validator = Callable[[torch.nn.Module, int, Path], dict[str, float]]  # (EMA model, step, image folder) -> metrics
STOP_FILE = "STOP"  # touch output_dir/STOP to make a running job checkpoint and exit like SIGTERM


def seed_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """The project's one seed -> generator rule: a ``torch.Generator`` on ``device`` seeded with ``seed``."""
    return torch.Generator(device).manual_seed(int(seed))


def noise_seed(seed: int, rank: int, micro_batch: int) -> int:
    """The seed of the loss's generator for ``micro_batch`` on ``rank``: distinct per rank and per micro-batch."""
    return int(np.random.SeedSequence([int(seed), int(rank), int(micro_batch)]).generate_state(1, np.uint64)[0] >> 1)


def rank_slice(batch: dict[str, torch.Tensor], rank: int, world_size: int) -> dict[str, torch.Tensor]:
    """This rank's equal share (along dim 0) of a global batch drawn identically on every rank."""
    if world_size == 1:
        return batch
    out = {}
    for k, v in batch.items():
        n = v.shape[0] // world_size
        out[k] = v[rank * n:(rank + 1) * n]
    return out


def global_batches(draw: Callable[[int, torch.Generator], dict[str, torch.Tensor]], batch_size: int,
                   generator: torch.Generator, rank: int, world_size: int) -> Iterator[dict[str, torch.Tensor]]:
    """Endless batches of an in-memory task: ``draw(batch_size * world_size, generator)`` on every rank (the
    generator is the same everywhere), this rank's slice kept."""
    while True:
        yield rank_slice(draw(batch_size * world_size, generator), rank, world_size)


class TrainingTask(Protocol):
    """What a model supplies to ``train``. ``recipe`` is its whole config (saved with each checkpoint) and
    ``recipe.train`` a ``TrainConfig``."""

    recipe: Any

    def build_model(self) -> torch.nn.Module:
        """A freshly initialised network (weights depend only on the recipe's seed)."""

    def load_init(self, model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
        """Load starting weights (``train.init_from``), adapting shapes where the task allows it."""

    def batches(self, generator: torch.Generator, start_step: int, rank: int,
                world_size: int) -> Iterator[dict[str, torch.Tensor]]:
        """Endless micro-batches for this rank, beginning at optimizer step ``start_step``."""

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        """The scalar loss of one micro-batch (already on the model's device)."""

    def export(self, model: torch.nn.Module, target: Path, step: int) -> Path:
        """Save ``model`` (holding the EMA weights) as a loadable pipeline folder; return its path."""


@dataclass
class TrainResult:
    step: int
    checkpoint: Path | None
    export: Path | None
    interrupted: bool
    world_size: int


class StopFlag:
    """Set by SIGINT/SIGTERM (main thread only); the loop checkpoints and returns at the next step."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> "StopFlag":
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum, frame) -> None:  # noqa: ARG002
        self.signum = signum

    def __exit__(self, *exc) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)


class CsvLog:
    """``log.csv`` (step, loss, lr, wall_time, world_size; or ``header``); rows past a resumed step are dropped first."""

    HEADER = "step,loss,lr,wall_time,world_size"

    def __init__(self, path: Path, resume_step: int | None, header: str = HEADER) -> None:
        self.path, self.rows, self.header = path, [], header
        if resume_step is None:
            path.unlink(missing_ok=True)  # a fresh run starts a fresh log
        elif path.is_file():
            lines = path.read_text().splitlines()
            keep = [ln for ln in lines[1:] if ln and int(ln.split(",")[0]) <= resume_step]
            path.write_text("\n".join([lines[0], *keep]) + "\n")

    def add(self, step: int, loss: float, lr: float, wall: float, world: int) -> None:
        self.rows.append(f"{step},{loss:.6f},{lr:.6e},{wall:.2f},{world}")

    def add_values(self, step: int, values: dict[str, float]) -> None:
        self.rows.append(",".join([str(step), *(f"{v:.6f}" for v in values.values())]))

    def flush(self) -> None:
        new = not self.path.is_file()
        with open(self.path, "a", encoding="utf-8") as f:
            if new:
                f.write(self.header + "\n")
            f.writelines(r + "\n" for r in self.rows)
        self.rows = []


def _optimisation(model: torch.nn.Module, t: TrainConfig):
    optimizer = torch.optim.AdamW(model.parameters(), lr=t.lr, betas=tuple(t.adam_betas), weight_decay=t.weight_decay)
    lr_sched = get_scheduler("cosine" if t.lr_schedule == "cosine" else "constant_with_warmup", optimizer,
                             num_warmup_steps=t.warmup_steps, num_training_steps=t.max_steps)
    ema = EMAModel(model.parameters(), decay=t.ema_decay, use_ema_warmup=t.ema_warmup)
    return optimizer, lr_sched, ema


def _start(task: TrainingTask, out: Path, resume: bool) -> Path | None:
    """The checkpoint to resume from (None: fresh start); refuses to overwrite a run without ``resume``."""
    found = ckpt.latest_checkpoint(out)
    if resume and found is None:
        print(f"no checkpoint in {out}; starting from scratch", file=sys.stderr)
    if not resume and found is not None:
        raise ValueError(f"{out} already holds checkpoints: pass --resume to continue, or set train.output_dir=...")
    return found if resume else None


def ema_copy(task: TrainingTask, model: torch.nn.Module, ema: EMAModel) -> torch.nn.Module:
    """A fresh model (on the CPU, in eval mode) holding ``model``'s buffers and the EMA weights."""
    ema_model = task.build_model()
    ema_model.load_state_dict(model.state_dict())
    ema.copy_to(ema_model.parameters())
    return ema_model.eval()


def export_ema(task: TrainingTask, model: torch.nn.Module, ema: EMAModel, target: Path, step: int) -> Path:
    """Export a copy of ``model`` holding the EMA weights through the task."""
    return task.export(ema_copy(task, model, ema), Path(target), step)


def _check_tracker(log_with: str) -> str | None:
    """accelerate's ``log_with`` for ``train.log_with`` (None for none); a missing package -> ValueError."""
    if log_with == "none":
        return None
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise ValueError("train.log_with=tensorboard needs the tensorboard package: pip install tensorboard") from None
    return log_with


def _tracker_config(recipe: Any) -> dict[str, Any]:
    """The recipe as flat ``section.key`` scalars (what TensorBoard's hparams accept)."""
    from dataclasses import asdict, is_dataclass

    flat: dict[str, Any] = {}
    for section, values in (asdict(recipe).items() if is_dataclass(recipe) else ()):
        for key, value in (values.items() if isinstance(values, dict) else [("", values)]):
            name = f"{section}.{key}" if key else section
            flat[name] = value if isinstance(value, (int, float, str, bool)) else str(value)
    return flat


def _speed_options(model: torch.nn.Module, t: TrainConfig) -> None:
    """``train.gradient_checkpointing`` (diffusers models) and ``train.compile`` (``nn.Module.compile``, in place:
    parameter names and the checkpoints stay the same)."""
    if t.gradient_checkpointing:
        if not hasattr(model, "enable_gradient_checkpointing"):
            raise ValueError(f"train.gradient_checkpointing needs a diffusers model, not {type(model).__name__}")
        model.enable_gradient_checkpointing()
    if t.compile:
        model.compile()


class _Run:
    """The state of one training run (model, optimiser, EMA, generator, step) and its steps."""

    def __init__(self, task: TrainingTask, resume: bool, validate: Validator | None = None) -> None:
        t = self.cfg = task.recipe.train
        self.task, self.out, self.validator = task, Path(t.output_dir), validate
        if t.val_every and validate is None:
            raise ValueError("train.val_every: this model has no validation (python -m depthgen.train's depth stages have)")
        resume_from = _start(task, self.out, resume)
        # cpu=True without a GPU: several processes (torchrun / accelerate launch --multi_gpu) train over gloo
        self.acc = Accelerator(mixed_precision=t.mixed_precision, gradient_accumulation_steps=t.grad_accum,
                               cpu=not torch.cuda.is_available(), log_with=_check_tracker(t.log_with),
                               project_dir=str(self.out))
        self.model = task.build_model()
        if t.init_from and resume_from is None:
            task.load_init(self.model, ckpt.load_init_weights(t.init_from), f"train.init_from {t.init_from}")
        _speed_options(self.model, t)
        self.optimizer, self.lr_sched, self.ema = _optimisation(self.model, t)
        self.generator = seed_generator(t.seed)
        self.step, self.wall0 = 0, 0.0
        if resume_from is not None:
            self.step, self.wall0 = ckpt.load_training_state(resume_from, self.model, self.ema, self.optimizer,
                                                             self.lr_sched, self.generator)
        self.wrapped, self.optimizer = self.acc.prepare(self.model, self.optimizer)
        if self.wrapped is not self.model and hasattr(self.model, "config"):
            self.wrapped.config = self.model.config  # DistributedDataParallel hides a diffusers model's config
        self.ema.to(self.acc.device)
        self.main, self.world = self.acc.is_main_process, self.acc.num_processes
        if self.main:
            self.out.mkdir(parents=True, exist_ok=True)
            save_config(task.recipe, self.out / "config.yaml")
        self.resumed = self.step if resume_from is not None else None
        self.log = CsvLog(self.out / "log.csv", self.resumed) if self.main else None
        self.val_log: CsvLog | None = None
        if t.log_with != "none":
            self.acc.init_trackers(getattr(task.recipe, "name", "train"), config=_tracker_config(task.recipe))
        self.t0, self.saved_step = time.time(), -1

    def wall(self) -> float:
        return self.wall0 + time.time() - self.t0

    def checkpoint(self) -> Path | None:
        """Write a checkpoint (main process) and wait for every process."""
        path, self.saved_step = None, self.step
        if self.main:
            self.log.flush()
            path = ckpt.save_checkpoint(self.out, self.step, self.model, self.ema, self.optimizer, self.lr_sched,
                                        self.generator, self.task.recipe, self.wall(), self.cfg.keep_checkpoints)
        self.acc.wait_for_everyone()
        return path

    def validate(self) -> None:
        """Score the EMA weights (main process; ``val.csv``, the tracker) and wait for every process."""
        if self.main:
            model = ema_copy(self.task, self.model, self.ema).to(self.acc.device)
            metrics = self.validator(model, self.step, self.out / "val" / f"step-{self.step}")
            if self.val_log is None:
                self.val_log = CsvLog(self.out / "val.csv", self.resumed, ",".join(["step", *metrics]))
            self.val_log.add_values(self.step, metrics)
            self.val_log.flush()
            self.acc.log({f"val/{k}": v for k, v in metrics.items()}, step=self.step)
        self.acc.wait_for_everyone()

    def micro_step(self, batch: dict[str, torch.Tensor]) -> float:
        """Forward, backward and (when gradients sync) the optimiser step of one micro-batch; its loss."""
        noise = seed_generator(noise_seed(self.cfg.seed, self.acc.process_index, self.micro))
        self.micro += 1
        with self.acc.accumulate(self.wrapped):
            loss = self.task.loss(self.wrapped, batch, noise)
            self.acc.backward(loss)
            if self.acc.sync_gradients and self.cfg.grad_clip > 0:
                self.acc.clip_grad_norm_(self.wrapped.parameters(), self.cfg.grad_clip)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    def loop(self, end: int, flag: StopFlag, progress: bool) -> tuple[Path | None, bool]:
        """Train to step ``end`` or a stop request; (newest checkpoint, interrupted)."""
        batches = self.task.batches(self.generator, self.step, self.acc.process_index, self.world)
        self.micro = self.step * self.cfg.grad_accum  # micro-batches done so far (a resume starts at a step)
        bar = tqdm(total=end, initial=self.step, desc=getattr(self.task.recipe, "name", "train"),
                   disable=not (progress and self.main))
        last, window = None, []
        self.wrapped.train()
        while self.step < end:
            window.append(self.micro_step({k: v.to(self.acc.device) for k, v in next(batches).items()}))
            if not self.acc.sync_gradients:
                continue
            self.lr_sched.step()
            self.ema.step(self.model.parameters())
            self.step += 1
            bar.update(1)
            if self.main:
                loss, lr = sum(window) / len(window), self.lr_sched.get_last_lr()[0]
                self.log.add(self.step, loss, lr, self.wall(), self.world)
                self.acc.log({"loss": loss, "lr": lr}, step=self.step)
                if self.step % self.cfg.log_every == 0:
                    self.log.flush()  # a running job can be watched
            window = []
            if self.cfg.val_every and self.step % self.cfg.val_every == 0:
                self.validate()
            if flag.signum is not None or (self.out / STOP_FILE).exists():
                print(f"stopped at step {self.step}; checkpoint saved in {self.out} (continue with --resume)",
                      file=sys.stderr)
                bar.close()
                return self.checkpoint(), True
            if self.step % self.cfg.checkpoint_every == 0 or self.step == end:
                last = self.checkpoint()
        bar.close()
        return last, False


def train(task: TrainingTask, resume: bool = False, stop_step: int | None = None, export: str | Path | None = None,
          progress: bool = True, stop: StopFlag | None = None, validate: Validator | None = None) -> TrainResult:
    """Run (or continue, with ``resume``) the task's training; see the module docstring. ``validate``: what
    ``train.val_every`` calls (the EMA model on the training device, step, a folder for images) -> metrics."""
    run = _Run(task, resume, validate)
    t = run.cfg
    end = t.max_steps if stop_step is None else min(int(stop_step), t.max_steps)
    with stop or StopFlag() as flag:
        last, interrupted = run.loop(end, flag, progress)
    if run.saved_step != run.step and run.step > 0:
        last = run.checkpoint()
    exported = None
    if not interrupted and run.main and (run.step >= t.max_steps or export):
        target = Path(export or t.export_dir or run.out / "pipeline")
        exported = export_ema(task, run.model, run.ema, target, run.step)
    run.acc.wait_for_everyone()
    run.acc.end_training()
    return TrainResult(run.step, last, exported, interrupted, run.world)
