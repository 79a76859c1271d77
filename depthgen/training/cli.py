"""The one command line of every training entry point (``python -m depthgen.train``,
``python -m text3d.models.t2i.train``, ``python -m text3d.models.inpaint.train`` ...)::

    --config RECIPE.yaml [key=value ...] [--resume] [--max-steps N] [--export DIR] [--no-progress]
    --export-only --from CKPT --out DIR [key=value ...]

With ``--export-only`` the recipe is the checkpoint's own ``config.yaml`` (``--config`` is not read); ``key=value``
overrides apply to it before the export (e.g. ``diffusion.guidance_scale=6`` for the exported pipeline's default).

Exit codes: 0 done, 2 bad input (one line on stderr), 130 stopped by a signal or a STOP file (resume with
``--resume``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from depthgen.common.config import load_config
from depthgen.training.trainer import train


def parse_args(prog: str, description: str, argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--config", help="recipe YAML")
    p.add_argument("overrides", nargs="*", help="key=value overrides, e.g. train.lr=1e-4")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in train.output_dir")
    p.add_argument("--max-steps", type=int, default=None, help="stop at this step (LR schedule unchanged)")
    p.add_argument("--export", default=None, help="export the EMA pipeline to this folder at the end")
    p.add_argument("--export-only", action="store_true",
                   help="only export --from CKPT to --out DIR, with the checkpoint's recipe and the key=value overrides")
    p.add_argument("--from", dest="from_", default=None, help="checkpoint dir or output_dir to export")
    p.add_argument("--out", default=None, help="pipeline folder to write with --export-only")
    p.add_argument("--no-progress", action="store_true", help="disable the progress bar")
    return p.parse_args(argv)


def export_checkpoint(make_task: Callable[[Any], Any], recipe_cls: type, source: str, out: str,
                      overrides: Sequence[str] = ()) -> Path:
    """Export the EMA weights of a checkpoint dir (or an output_dir's newest checkpoint) through its task, with
    the checkpoint's recipe and ``overrides`` (``key=value``) applied to it."""
    from depthgen.training.checkpoint import checkpoint_step, load_weights, resolve_checkpoint

    found = resolve_checkpoint(source)
    task = make_task(load_config(recipe_cls, found / "config.yaml", overrides))
    model = task.build_model()
    model.load_state_dict(load_weights(found, prefer_ema=True))
    return task.export(model.eval(), Path(out), checkpoint_step(found))


def main(prog: str, description: str, recipe_cls: type, make_task: Callable[[Any], Any],
         argv: Sequence[str] | None = None, validates: bool = False) -> int:
    """Parse ``argv``, train (or export) and return the exit code. ``validates``: the task has a ``validate``
    method, called every ``train.val_every`` steps (``depthgen.training.trainer.Validator``)."""
    args = parse_args(prog, description, argv)
    try:
        if args.export_only:
            if not args.from_ or not args.out:
                raise ValueError("--export-only needs --from CKPT and --out DIR")
            print(f"exported {export_checkpoint(make_task, recipe_cls, args.from_, args.out, args.overrides)}")
            return 0
        if not args.config:
            raise ValueError("--config is required (a recipe YAML under configs/)")
        if args.max_steps is not None and args.max_steps < 1:
            raise ValueError("--max-steps must be >= 1")
        task = make_task(load_config(recipe_cls, args.config, args.overrides))
        result = train(task, resume=args.resume, stop_step=args.max_steps, export=args.export,
                       progress=not args.no_progress, validate=task.validate if validates else None)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if result.interrupted:
        return 130
    done = f"exported {result.export}" if result.export else "not exported (train.max_steps not reached)"
    print(f"trained to step {result.step} on {result.world_size} process(es); checkpoint {result.checkpoint}; {done}")
    return 0
