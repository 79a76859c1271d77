"""Train the embedded text-to-image model.

    python -m text3d.t2i.train --config configs/t2i/t2i.yaml [key=value ...] [--resume [CKPT]]
                               [--max-steps N] [--export DIR]
    python -m text3d.t2i.train --export-only --from CKPT --out DIR   # CKPT: checkpoint dir or output_dir

One ``training_step`` (v/epsilon/x0 regression with classifier-free text dropout) inside an accelerate
loop: AdamW, warmup + cosine/constant LR, diffusers ``EMAModel``, a tqdm bar, ``output_dir/log.csv``,
checkpoints every ``train.checkpoint_every`` steps and on SIGINT/SIGTERM (exit 130), written with
``depthgen.checkpoint`` (same layout as DepthGen's: weights, EMA, optimizer, LR, RNG, step, config).
All randomness (batches, flips, caption choice, text dropout, timesteps, noise) comes from one
``torch.Generator`` saved in each checkpoint, so ``--resume`` continues exactly as an uninterrupted run.
As in ``depthgen.train``: ``train.max_steps`` is the LR-schedule length and the default stop; ``--max-steps
N`` stops at step N without changing the schedule (2 steps + resume to 4 equals 4 steps in one go); the
EMA pipeline is exported (``--export`` / ``train.export_dir`` / ``<output_dir>/pipeline``) once
``train.max_steps`` is reached, or at any stop when ``--export`` is given.
"""

from __future__ import annotations

import argparse
import csv
import signal
import sys
import time
from pathlib import Path
from typing import Sequence

import torch

from text3d.t2i.config import T2IRecipe


def training_step(unet: torch.nn.Module, noise_scheduler, x0: torch.Tensor, text: torch.Tensor,
                  generator: torch.Generator, t_shift: float = 1.0) -> torch.Tensor:
    """Diffusion loss (MSE) on one batch. x0 (B, 3, H, W) in [-1, 1]; text (B, 384). Returns a scalar.

    ``t_shift`` > 1 draws the timesteps nearer pure noise, where the layout of a prompt is decided.
    """
    from depthgen.diffusion import sample_timesteps
    from text3d.t2i.model import unet_forward

    b = x0.shape[0]
    t = sample_timesteps(b, noise_scheduler.config.num_train_timesteps, t_shift, generator)
    noise = torch.randn(x0.shape, generator=generator)
    t, noise = t.to(x0.device), noise.to(x0.device)
    x_t = noise_scheduler.add_noise(x0, noise, t)
    kind = noise_scheduler.config.prediction_type
    target = {"epsilon": noise, "sample": x0}.get(kind)
    if target is None:
        target = noise_scheduler.get_velocity(x0, noise, t)
    pred = unet_forward(unet, x_t, t, text)
    return torch.nn.functional.mse_loss(pred.float(), target.float())


class _StopFlag:
    """Set by SIGINT/SIGTERM; the loop checkpoints and returns at the next step boundary."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._old: dict[int, object] = {}

    def __enter__(self) -> "_StopFlag":
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: no handler
                pass
        return self

    def _handle(self, signum, frame) -> None:
        self.signal = signum

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _open_log(path: Path, resume_step: int):
    """CSV loss log; on resume rows past the checkpoint step are dropped (they will be replayed)."""
    rows = []
    if resume_step > 0 and path.is_file():
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f)][1:]
        rows = [r for r in rows if r and int(r[0]) <= resume_step]
    f = open(path, "w", newline="")
    writer = csv.writer(f)
    writer.writerow(["step", "loss", "lr", "wall_time"])
    writer.writerows(rows)
    f.flush()
    return f, writer


def train(cfg: T2IRecipe, resume: str | None = None, export_dir: str | None = None,
          stop: _StopFlag | None = None, stop_step: int | None = None) -> dict:
    """Run (or resume) training; returns {"step", "checkpoint", "export", "interrupted"}.

    resume: a checkpoint folder, or "latest" for the newest one in ``train.output_dir`` (none: fresh start).
    stop_step: stop at this step (the LR schedule still spans ``train.max_steps``).
    """
    from accelerate import Accelerator
    from diffusers.optimization import get_scheduler
    from diffusers.training_utils import EMAModel
    from tqdm.auto import tqdm

    from depthgen.config import save_config
    from depthgen import checkpoint as ckpt
    from depthgen.diffusion import make_train_scheduler
    from text3d.t2i.data import CaptionBank, load_training_data, sample_batch
    from text3d.t2i.export import export_pipeline, training_card
    from text3d.t2i.model import build_unet, load_widened
    from text3d.t2i.text_encoder import load_text_encoder

    tc = cfg.train
    out = Path(tc.output_dir)
    resume_from = None
    if resume == "latest":
        resume_from = ckpt.latest_checkpoint(out)
        if resume_from is None:
            print(f"no checkpoint in {out}; starting from scratch", file=sys.stderr)
    elif resume:
        resume_from = Path(resume)
        if not resume_from.is_dir():
            raise ValueError(f"--resume {resume}: no such checkpoint folder")
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / "config.yaml")

    accelerator = Accelerator(mixed_precision=tc.mixed_precision, gradient_accumulation_steps=tc.grad_accum)
    size = cfg.model.sample_size
    data = load_training_data(cfg.data, size, seed=tc.seed)
    bank = CaptionBank.build(data.captions, load_text_encoder(), out / "caption_embeddings.safetensors")
    load_text_encoder.cache_clear()  # embeddings are cached; free the encoder (~90 MB + activations)

    unet = build_unet(cfg.model, seed=tc.seed)
    if tc.init_from:
        load_widened(unet, ckpt.load_init_weights(tc.init_from))
    noise_scheduler = make_train_scheduler(cfg.diffusion)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=tc.lr, betas=tuple(tc.adam_betas), weight_decay=tc.weight_decay)
    lr_scheduler = get_scheduler("cosine" if tc.lr_schedule == "cosine" else "constant_with_warmup", optimizer,
                                 num_warmup_steps=tc.warmup_steps, num_training_steps=tc.max_steps)
    ema = EMAModel(unet.parameters(), decay=tc.ema_decay, use_ema_warmup=tc.ema_warmup)
    gen = torch.Generator("cpu").manual_seed(tc.seed)
    step, wall0 = 0, 0.0
    if resume_from is not None:
        step, wall0 = ckpt.load_training_state(resume_from, unet, ema, optimizer, lr_scheduler, gen)
    end = tc.max_steps if stop_step is None else min(int(stop_step), tc.max_steps)
    unet, optimizer, lr_scheduler = accelerator.prepare(unet, optimizer, lr_scheduler)
    ema.to(accelerator.device)
    model = accelerator.unwrap_model(unet)

    def save() -> Path:
        return ckpt.save_checkpoint(out, step, model, ema, optimizer, lr_scheduler, gen, cfg,
                                    wall0 + time.perf_counter() - t0, tc.keep_checkpoints)

    log_file, log = _open_log(out / "log.csv", step)
    stop = stop or _StopFlag()
    bar = tqdm(total=end, initial=step, desc="t2i", disable=not accelerator.is_local_main_process)
    last_ckpt, running, count, t0 = None, 0.0, 0, time.perf_counter()
    unet.train()
    try:
        while step < end and stop.signal is None:
            for _ in range(tc.grad_accum):
                with accelerator.accumulate(unet):
                    x0, text = sample_batch(data, bank, tc.batch_size, gen, cfg.data.hflip, cfg.diffusion.text_dropout)
                    loss = training_step(unet, noise_scheduler, x0.to(accelerator.device),
                                         text.to(accelerator.device), gen, cfg.diffusion.t_shift)
                    accelerator.backward(loss)
                    if accelerator.sync_gradients and tc.grad_clip > 0:
                        accelerator.clip_grad_norm_(unet.parameters(), tc.grad_clip)
                    optimizer.step()
                    lr_scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                running += float(loss.detach()) / tc.grad_accum
            ema.step(model.parameters())
            step += 1
            count += 1
            bar.update(1)
            if step % tc.log_every == 0 or step == end:
                avg = running / count
                log.writerow([step, f"{avg:.6f}", f"{lr_scheduler.get_last_lr()[0]:.3e}",
                              f"{wall0 + time.perf_counter() - t0:.1f}"])
                log_file.flush()
                bar.set_postfix(loss=f"{avg:.4f}")
                running, count = 0.0, 0
            if step % tc.checkpoint_every == 0:
                last_ckpt = save()
        if last_ckpt is None or last_ckpt.name != f"checkpoint-{step}":
            last_ckpt = save()
    finally:
        bar.close()
        log_file.close()
    result = {"step": step, "checkpoint": last_ckpt, "export": None, "interrupted": stop.signal is not None}
    if stop.signal is None and (step >= tc.max_steps or export_dir):
        ema_model = build_unet(cfg.model, seed=tc.seed)
        ema.copy_to(ema_model.parameters())
        card = training_card(cfg, step, len(data))
        result["export"] = export_pipeline(ema_model, noise_scheduler.config, export_dir or tc.export_dir
                                           or out / "pipeline", dtype=tc.export_dtype, card=card)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    from depthgen.config import load_config

    parser = argparse.ArgumentParser(prog="python -m text3d.t2i.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=None, help="recipe YAML, e.g. configs/t2i/t2i.yaml")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. train.batch_size=16")
    parser.add_argument("--resume", nargs="?", const="latest", default=None,
                        help="resume from the newest checkpoint in train.output_dir, or from the given one")
    parser.add_argument("--max-steps", type=int, default=None, help="stop at this step (LR schedule unchanged)")
    parser.add_argument("--export", default=None, help="folder for the exported pipeline (default <output_dir>/pipeline)")
    parser.add_argument("--export-only", action="store_true", help="only export --from CKPT to --out DIR")
    parser.add_argument("--from", dest="from_", default=None, help="checkpoint dir or output_dir to export")
    parser.add_argument("--out", default=None, help="pipeline folder to write with --export-only")
    args = parser.parse_args(argv)
    try:
        if args.export_only:
            if not args.from_ or not args.out:
                raise ValueError("--export-only needs --from CKPT and --out DIR")
            from text3d.t2i.export import export_from_checkpoint

            print(f"exported {export_from_checkpoint(args.from_, args.out)}")
            return 0
        if not args.config:
            raise ValueError("--config is required (e.g. configs/t2i/t2i.yaml)")
        if args.max_steps is not None and args.max_steps < 1:
            raise ValueError("--max-steps must be >= 1")
        cfg = load_config(T2IRecipe, args.config, args.overrides)
        with _StopFlag() as stop:
            result = train(cfg, resume=args.resume, export_dir=args.export, stop=stop, stop_step=args.max_steps)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if result["interrupted"]:
        print(f"interrupted at step {result['step']}; checkpoint {result['checkpoint']} (continue with --resume)")
        return 130
    exported = f"pipeline {result['export']}" if result["export"] else "not exported (train.max_steps not reached)"
    print(f"trained to step {result['step']}; checkpoint {result['checkpoint']}; {exported}")
    return 0


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
