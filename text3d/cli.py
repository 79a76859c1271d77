"""The command line: ``python -m text3d.generate "a cozy library" [--out DIR] [--preset NAME] ...``.

``python -m text3d.generate`` (``text3d/generate.py``) and ``python -m text3d`` run ``main``; the console script
``text3d-generate`` runs ``cli``. Shows a progress bar per phase of the run and prints the output paths. Bad
input prints one line and exits 2. The Python API is ``text3d.generate_scene``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from depthgen.common.cli import ArgumentParser, parse_size
from text3d.backends.loading import BackendsUnavailable
from text3d.run.api import generate_scene
from text3d.run.upscale import PHOTO_MAX_SIDE


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m text3d.generate",
                description="Generate a walkable, coloured 3D scene (mesh, point cloud, video) from a prompt.")
    p.add_argument("prompt", nargs="?", default=None, help='text prompt, e.g. "a cozy library"')
    p.add_argument("--out", default=None, help="output folder (default: outputs/<slug>-<seed>)")
    p.add_argument("--preset", default="default", help="preset name in configs/text3d/ or a YAML path: default (256-px views through "
                   "the super-resolution cascade; hd is an alias), fast (64-px preview), sd (Stable Diffusion, 512 px)")
    p.add_argument("--trajectory", default=None, help="orbit | walk | zoom-out | a .yaml/.json segment file")
    p.add_argument("--views", type=int, default=None, help="number of trajectory views (including the first)")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same scene")
    p.add_argument("--steps", type=int, default=None, help="sampling steps for every model")
    p.add_argument("--size", default=None, help="view size WIDTHxHEIGHT, e.g. 256x256 (default: the preset's; a photo's "
                   "own, see --image)")
    p.add_argument("--t2i", default=None, help="text-to-image model: embedded, a hub id or a local folder")
    p.add_argument("--inpaint", default=None, help="inpainting model: embedded, a hub id or a local folder")
    p.add_argument("--depth", default=None, help="depth model: embedded or a DepthGen pipeline folder")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where models run")
    p.add_argument("--image", default=None, help="start from this photo instead of a text-to-image view; with the default "
                   f"preset the views keep the photo's resolution up to {PHOTO_MAX_SIDE} px on the longer side "
                   "(scaled down beyond, rounded down to multiples of 32 px); --size overrides")
    p.add_argument("--fov", type=float, default=None,
                   help="horizontal field of view in degrees (default: the photo's EXIF focal length, else the preset's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a preset setting, e.g. --set fusion.method=tsdf (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 done, 2 bad input, 130 interrupted)."""
    try:
        args = build_parser().parse_args(argv)
        if args.prompt is None and args.image is None:
            raise ValueError('give a prompt, e.g. python -m text3d.generate "a cozy library" (or --image PATH)')
        if args.views is not None and args.views < 1:
            raise ValueError(f"--views must be at least 1, got {args.views}")
        if args.seed < 0:
            raise ValueError(f"--seed must be 0 or more, got {args.seed}")
        size = None if args.size is None else parse_size(args.size)  # (H, W)
        result = generate_scene(args.prompt, image=args.image, out_dir=args.out, preset=args.preset,
                                trajectory=args.trajectory, views=args.views, seed=args.seed, steps=args.steps,
                                size=size, t2i=args.t2i, inpaint=args.inpaint, depth=args.depth,
                                device=args.device, overrides=args.overrides, progress_bars=not args.quiet,
                                fov_deg=args.fov)
    except ValueError as e:
        print(f"error: {str(e).splitlines()[0] if str(e) else e.__class__.__name__}", file=sys.stderr)
        return 2
    except BackendsUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; no partial files were left behind", file=sys.stderr)
        return 130
    for key, path in result.paths.items():
        print(f"{key:>17}: {path}")
    return 0


def cli() -> None:
    """Console-script entry point: ``sys.exit(main())``."""
    sys.exit(main())
