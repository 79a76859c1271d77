"""The command line: ``python -m text3d.generate "a cozy library" [--out DIR] [--preset NAME] ...``.

``python -m text3d.generate`` (``text3d/generate.py``) and ``python -m text3d`` run ``main``; the console script
``text3d-generate`` runs ``cli``. Shows a progress bar per phase of the run and prints the output paths. The
Python API is ``text3d.generate_scene``.

A run is all or nothing (``text3d.run.folder``). Exit codes, each failure with one line on stderr: 0 done,
1 an internal error or a machine problem (a full disk), 2 bad input (checked before any model loads),
130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn, Sequence

from pathlib import Path

from depthgen.common.cli import ArgumentParser, parse_size
from text3d.backends.hub import download_models
from text3d.backends.hub_ids import MARIGOLD, SD_INPAINT, SD_T2I
from text3d.backends.loading import BackendsUnavailable, model_names
from text3d.config import MAX_VIEWS, PHOTO_MAX_PIXELS, load_preset
from text3d.run.api import generate_scene
from text3d.run.folder import exit_message, handle_signals, received_signal
from text3d.run.seeds import MAX_SEED
from text3d.run.upscale import PHOTO_MAX_SIDE

EPILOG = ("exit codes: 0 done, 1 internal error (or a full disk), 2 bad input, 130 interrupted (SIGINT), 143 "
          "terminated (SIGTERM); an unfinished run leaves nothing in --out")


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m text3d.generate",
                description="Generate a walkable, coloured 3D scene (mesh, point cloud, video) from a prompt.",
                epilog=EPILOG)
    p.add_argument("prompt", nargs="?", default=None, help='text prompt, e.g. "a cozy library"')
    p.add_argument("--out", default=None, help="output folder (default: outputs/<slug>-<seed>); must be new, empty or "
                   "hold a finished run (see --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace a finished run in --out whole")
    p.add_argument("--preset", default="default", help="preset name in configs/text3d/ or a YAML path: default (256-px views through "
                   "the super-resolution cascade; hd is an alias), fast (64-px preview), latent (the latent image models: 256-px views painted "
                   "in the autoencoder's latent space), sd (Stable Diffusion with Marigold depth, 512 px, for a GPU)")
    p.add_argument("--trajectory", default=None, help="orbit | walk | zoom-out | a .yaml/.json segment file")
    p.add_argument("--views", type=int, default=None, help="number of trajectory views (including the first), "
                   f"1..{MAX_VIEWS}")
    p.add_argument("--seed", type=int, default=0, help=f"random seed, 0..{MAX_SEED} (2**63 - 1): the same seed and "
                   "the same torch thread count give the same scene")
    p.add_argument("--steps", type=int, default=None, help="sampling steps for every model")
    p.add_argument("--size", default=None, help="view size WIDTHxHEIGHT, e.g. 256x256 (default: the preset's; a photo's "
                   "own, see --image)")
    p.add_argument("--t2i", default=None, help="text-to-image model: embedded, embedded-latent, a text-to-image pipeline folder or a "
                   f"diffusers hub id (e.g. {SD_T2I})")
    p.add_argument("--inpaint", default=None, help="inpainting model: embedded, embedded-latent, an inpainting pipeline folder or a "
                   f"diffusers hub id (e.g. {SD_INPAINT})")
    p.add_argument("--depth", default=None, help="depth model: embedded, a DepthGen pipeline folder, a Marigold "
                   "(diffusers MarigoldDepthPipeline) folder, a transformers depth-estimation model folder (DPT, "
                   f"Depth Anything, ...), or the hub id of one (e.g. {MARIGOLD}); works with every preset")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where models run: cuda puts every model on the GPU, in float16 (the super-resolution model in "
                   "float32); auto = cuda when one is visible")
    p.add_argument("--allow-download", action="store_true",
                   help="download the named hub models that the local Hugging Face cache lacks (HF_HOME) before the "
                   "run; off by default: nothing is downloaded, and a model missing from the cache is an error")
    p.add_argument("--image", default=None, help="start from this photo instead of a text-to-image view; with the default "
                   f"preset the views keep the photo's resolution up to {PHOTO_MAX_SIDE} px on the longer side "
                   "(scaled down beyond, rounded down to multiples of 32 px); --size overrides; at most "
                   f"{PHOTO_MAX_PIXELS:,} pixels")
    p.add_argument("--fov", type=float, default=None,
                   help="horizontal field of view in degrees (default: the photo's EXIF focal length, else the preset's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a preset setting, e.g. --set fusion.method=tsdf (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 done, 1 internal error, 2 bad input, 130 SIGINT, 143 SIGTERM)."""
    with handle_signals():
        try:
            args = build_parser().parse_args(argv)
            result = run(args)
        except ValueError as e:
            print(f"error: {str(e).splitlines()[0] if str(e) else e.__class__.__name__}", file=sys.stderr)
            return 2
        except BackendsUnavailable as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        except BaseException as e:      # interrupts, a full disk, bugs: one line, nothing of the run left
            if isinstance(e, SystemExit):
                raise
            out = None if "args" not in locals() or args.out is None else Path(args.out)
            print(f"error: {exit_message(e, out)}", file=sys.stderr)
            signum = received_signal()
            return 128 + signum if signum else 130 if isinstance(e, KeyboardInterrupt) else 1
    for key, path in result.paths.items():
        print(f"{key:>17}: {path}")
    return 0


def run(args: argparse.Namespace):
    """One run from parsed arguments; ValueError for bad input."""
    if args.prompt is None and args.image is None:
        raise ValueError('give a prompt, e.g. python -m text3d.generate "a cozy library" (or --image PATH)')
    if args.views is not None and not 1 <= args.views <= MAX_VIEWS:
        raise ValueError(f"--views must be within 1..{MAX_VIEWS}, got {args.views}")
    if not 0 <= args.seed <= MAX_SEED:
        raise ValueError(f"--seed must be within 0..{MAX_SEED} (2**63 - 1), got {args.seed}")
    size = None if args.size is None else parse_size(args.size)  # (H, W)
    if args.allow_download:
        models = load_preset(args.preset, args.overrides).backends
        download_models(model_names(models, args.t2i, args.inpaint, args.depth, need_t2i=args.image is None).values())
    return generate_scene(args.prompt, image=args.image, out_dir=args.out, preset=args.preset,
                          trajectory=args.trajectory, views=args.views, seed=args.seed, steps=args.steps,
                          size=size, t2i=args.t2i, inpaint=args.inpaint, depth=args.depth, device=args.device,
                          overrides=args.overrides, progress_bars=not args.quiet, fov_deg=args.fov,
                          overwrite=args.overwrite)


def cli(argv: Sequence[str] | None = None) -> NoReturn:
    """The entry point of ``python -m text3d.generate``, ``python -m text3d`` and the console script: exits with
    ``main``'s code. An interrupted run (130, 143) ends at once, without the interpreter's shutdown: a native
    library stopped inside its first import (Open3D) can otherwise turn the exit status into 1 there."""
    code = main(argv)
    if code in (130, 143):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
