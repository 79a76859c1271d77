"""Training CLI for DepthGen and its Palette pretraining (single process or ``accelerate launch``).

    python -m depthgen.train --config configs/depthgen/pretrain.yaml [key=value ...] [--resume] [--max-steps N]
    python -m depthgen.train --config ... --export DIR          # also export the final EMA pipeline to DIR
    python -m depthgen.train --export-only --from CKPT --out DIR  # CKPT: checkpoint dir or output_dir

``train.max_steps`` is the schedule length (cosine decay) and the default stop; ``--max-steps N`` stops at
step N without changing the schedule (so 2 steps + resume to 4 equals 4 steps in one go). ``--resume``
continues from ``output_dir/last`` exactly (weights, EMA, optimizer, LR, RNG, data position); log rows
written after that checkpoint are dropped and replayed.
SIGINT / SIGTERM: the current step finishes, a checkpoint is written, and the run exits with code 130.
At the end of training (max_steps reached) the EMA weights are exported as a pipeline folder
(``train.export_dir``, default ``<output_dir>/pipeline``) loadable with ``DepthGenPipeline`` /
``PalettePipeline.from_pretrained``. The per-step loss goes to ``output_dir/log.csv`` (flushed every
``train.log_every`` steps: step, loss, lr, wall_time seconds of training).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Sequence

import torch

from depthgen.config import load_config
from depthgen.recipe import Recipe


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m depthgen.train", description=__doc__.split("\n")[0])
    p.add_argument("--config", help="recipe YAML (configs/depthgen/*.yaml)")
    p.add_argument("overrides", nargs="*", help="key=value overrides, e.g. train.lr=1e-4")
    p.add_argument("--resume", action="store_true", help="continue from output_dir/last")
    p.add_argument("--max-steps", type=int, default=None, help="stop at this step (schedule unchanged)")
    p.add_argument("--export", default=None, help="export the final EMA pipeline to this folder")
    p.add_argument("--export-only", action="store_true", help="only export --from CKPT to --out DIR")
    p.add_argument("--from", dest="from_", default=None, help="checkpoint dir or output_dir to export")
    p.add_argument("--out", default=None, help="pipeline folder to write with --export-only")
    p.add_argument("--no-progress", action="store_true", help="disable the tqdm bar")
    return p.parse_args(argv)


class _StopFlag:
    """Set by SIGINT/SIGTERM; the loop checkpoints and exits at the next step boundary."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, object] = {}

    def __enter__(self) -> "_StopFlag":
        import threading

        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum, frame) -> None:  # noqa: ARG002
        self.signum = signum

    def __exit__(self, *exc) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)


def _append_log(path: Path, rows: list[tuple], resume_step: int | None) -> None:
    """Append rows to log.csv; on resume first drop rows past the resumed step (replayed steps)."""
    if resume_step is not None and path.is_file():
        lines = path.read_text().splitlines()
        keep = [lines[0]] + [ln for ln in lines[1:] if ln and int(ln.split(",")[0]) <= resume_step]
        path.write_text("\n".join(keep) + "\n")
    new = not path.is_file()
    with open(path, "a", encoding="utf-8") as f:
        if new:
            f.write("step,loss,lr,wall_time\n")
        for r in rows:
            f.write(f"{r[0]},{r[1]:.6f},{r[2]:.6e},{r[3]:.2f}\n")


def train(recipe: Recipe, resume: bool = False, stop_step: int | None = None, export: str | None = None,
          progress: bool = True, source: torch.utils.data.Dataset | None = None) -> int:
    """Run (or continue) training; returns 0 when done, 130 when stopped by a signal."""
    from accelerate import Accelerator
    from diffusers.optimization import get_scheduler
    from diffusers.training_utils import EMAModel
    from tqdm.auto import tqdm

    from depthgen.checkpoint import latest_checkpoint, load_init_weights, load_training_state, save_checkpoint
    from depthgen.diffusion import diffusion_loss, make_train_scheduler, regression_loss
    from depthgen.model import build_unet, load_adapted
    from depthgen.recipe import target_channels
    from depthgen.train_data import make_loader

    tc = recipe.train
    out = Path(tc.output_dir)
    ckpt = latest_checkpoint(out) if resume else None
    if resume and ckpt is None:
        print(f"no checkpoint in {out}; starting from scratch", file=sys.stderr)
    if not resume and latest_checkpoint(out) is not None:
        raise ValueError(f"{out} already holds checkpoints: pass --resume to continue, or set train.output_dir=...")
    accelerator = Accelerator(mixed_precision=tc.mixed_precision, gradient_accumulation_steps=tc.grad_accum)
    unet = build_unet(recipe.model, target_channels(recipe.stage), seed=tc.seed)
    if tc.init_from and ckpt is None:
        load_adapted(unet, load_init_weights(tc.init_from), source=f"train.init_from {tc.init_from}")
    scheduler = make_train_scheduler(recipe.diffusion)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=tc.lr, betas=tuple(tc.adam_betas), weight_decay=tc.weight_decay)
    lr_sched = get_scheduler("cosine" if tc.lr_schedule == "cosine" else "constant_with_warmup", optimizer,
                             num_warmup_steps=tc.warmup_steps, num_training_steps=tc.max_steps)
    ema = EMAModel(unet.parameters(), decay=tc.ema_decay, use_ema_warmup=tc.ema_warmup)
    generator = torch.Generator().manual_seed(tc.seed * 1000 + accelerator.process_index + 1)
    step, wall0 = 0, 0.0
    if ckpt is not None:
        step, wall0 = load_training_state(ckpt, unet, ema, optimizer, lr_sched, generator)
    unet, optimizer = accelerator.prepare(unet, optimizer)
    ema.to(accelerator.device)
    raw_unet = accelerator.unwrap_model(unet)
    stop = min(stop_step, tc.max_steps) if stop_step is not None else tc.max_steps
    loader = make_loader(recipe, start_batch=step * tc.grad_accum, rank=accelerator.process_index,
                         world_size=accelerator.num_processes, source=source)
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
    log_rows: list[tuple] = []
    resumed_at = step if ckpt is not None else None
    if ckpt is None and accelerator.is_main_process and (out / "log.csv").exists():
        (out / "log.csv").unlink()  # a fresh run starts a fresh log
    bar = tqdm(total=stop, initial=step, disable=not progress or not accelerator.is_main_process, desc=recipe.name)
    t_start = time.time()
    window: list[float] = []
    code = 0

    def checkpoint() -> None:
        nonlocal log_rows, resumed_at
        if accelerator.is_main_process:
            _append_log(out / "log.csv", log_rows, resumed_at)
            log_rows, resumed_at = [], None
            save_checkpoint(out, step, raw_unet, ema, optimizer, lr_sched, generator, recipe,
                            wall0 + time.time() - t_start, tc.keep_checkpoints)
        accelerator.wait_for_everyone()

    with _StopFlag() as flag:
        unet.train()
        batches = iter(loader)
        while step < stop:
            batch = {k: v.to(accelerator.device) for k, v in next(batches).items()}
            with accelerator.accumulate(unet):
                if recipe.stage == "regression":
                    loss, _ = regression_loss(unet, batch, recipe.diffusion)
                else:
                    loss, _ = diffusion_loss(unet, scheduler, batch, recipe.diffusion, generator)
                accelerator.backward(loss)
                if accelerator.sync_gradients and tc.grad_clip > 0:
                    accelerator.clip_grad_norm_(unet.parameters(), tc.grad_clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            window.append(float(loss.detach()))
            if not accelerator.sync_gradients:
                continue
            lr_sched.step()
            ema.step(raw_unet.parameters())
            step += 1
            mean_loss = sum(window) / len(window)
            window = []
            log_rows.append((step, mean_loss, lr_sched.get_last_lr()[0], wall0 + time.time() - t_start))
            bar.update(1)
            if step % tc.log_every == 0:
                bar.set_postfix(loss=f"{mean_loss:.4f}", lr=f"{lr_sched.get_last_lr()[0]:.2e}")
                if accelerator.is_main_process:  # flush the CSV so a running job can be watched
                    _append_log(out / "log.csv", log_rows, resumed_at)
                    log_rows, resumed_at = [], None
            if flag.signum is not None:
                checkpoint()
                print(f"stopped by signal {flag.signum} at step {step}; checkpoint saved in {out}", file=sys.stderr)
                code = 130
                break
            if step % tc.checkpoint_every == 0 or step == stop:
                checkpoint()
    bar.close()
    if code == 0 and accelerator.is_main_process and (step >= tc.max_steps or export):
        from depthgen.export import export_pipeline

        target = export or tc.export_dir or str(out / "pipeline")
        with torch.no_grad():
            ema_state = {k: v.detach().cpu() for k, v in raw_unet.state_dict().items()}
            for (name, _), shadow in zip(raw_unet.named_parameters(), ema.shadow_params):
                ema_state[name] = shadow.detach().cpu()
        export_pipeline(recipe, ema_state, target)
        print(f"exported EMA pipeline to {target}", file=sys.stderr)
    accelerator.end_training()
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.export_only:
            if not args.from_ or not args.out:
                raise ValueError("--export-only needs --from CKPT and --out DIR")
            from depthgen.export import export_from_checkpoint

            export_from_checkpoint(args.from_, args.out)
            print(f"exported {args.from_} to {args.out}")
            return 0
        if not args.config:
            raise ValueError("--config is required (e.g. configs/depthgen/pretrain.yaml)")
        recipe = load_config(Recipe, args.config, args.overrides)
        if args.max_steps is not None and args.max_steps < 1:
            raise ValueError("--max-steps must be >= 1")
        return train(recipe, resume=args.resume, stop_step=args.max_steps, export=args.export,
                     progress=not args.no_progress)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
