"""CLI: write procedural RGB-D shards.

    python -m depthgen.data.procedural --out DIR --n 10000 --size 64x64 --split train [--sensor kinect]
        [--workers 2] [--shard-size 1000] [--start 0] [--outdoor-fraction 0.2] [--folder] [--depth-scale 1000]
        [--realism off|on|on,-effect,...]
"""

from __future__ import annotations

import argparse
import sys

from depthgen.common.cli import ArgumentParser, parse_size
from depthgen.data.procedural.realism import realism_config
from depthgen.data.procedural.sample import SPLITS
from depthgen.data.procedural.shards import write_shards


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m depthgen.data.procedural", description="Write procedural RGB-D shards.")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n", type=int, required=True, help="number of samples")
    p.add_argument("--size", default="64x64", help="image size WxH, e.g. 64x64 or 96x64")
    p.add_argument("--split", default="train", help="train | val | test")
    p.add_argument("--sensor", default="kinect", help="kinect | lidar | none (sensor_depth = clean depth)")
    p.add_argument("--workers", type=int, default=1, help="processes rendering in parallel")
    p.add_argument("--shard-size", type=int, default=1000, help="samples per shard file")
    p.add_argument("--start", type=int, default=0, help="first split index")
    p.add_argument("--outdoor-fraction", type=float, default=0.2, help="share of outdoor scenes in [0, 1]")
    p.add_argument("--folder", action="store_true", help="also write DIR/rgb, DIR/depth (folder format)")
    p.add_argument("--depth-scale", type=float, default=1000.0, help="folder depth PNG units per metre")
    p.add_argument("--realism", default="off",
                   help="sim-to-real effects: off (default: the plain engine), on, or on,-jpeg,-noise,... "
                        "(see depthgen.data.procedural.realism)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns 0 on success, 2 (with one line on stderr) on bad input."""
    try:
        a = build_parser().parse_args(argv)
        size = parse_size(a.size, "--size", minimum=2)
        if a.n < 1:
            raise ValueError(f"--n must be >= 1, got {a.n}")
        if a.split not in SPLITS:
            raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {a.split!r}")
        sensor = None if a.sensor.lower() in ("none", "clean") else a.sensor.lower()
        if sensor not in (None, "kinect", "lidar"):
            raise ValueError(f"--sensor must be kinect, lidar or none, got {a.sensor!r}")
        if a.workers < 1 or a.shard_size < 1:
            raise ValueError("--workers and --shard-size must be >= 1")
        if not 0.0 <= a.outdoor_fraction <= 1.0:
            raise ValueError(f"--outdoor-fraction must be in [0, 1], got {a.outdoor_fraction}")
        if not a.depth_scale > 0:
            raise ValueError(f"--depth-scale must be > 0, got {a.depth_scale}")
        realism = realism_config(a.realism)
        lo, hi = SPLITS[a.split]
        if a.start < 0 or a.start + a.n > hi:
            raise ValueError(f"--start/--n must stay within the {a.split} split (index < {hi})")
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    paths = write_shards(a.out, a.n, size, a.split, sensor, a.shard_size, a.workers, a.start, a.outdoor_fraction,
                         a.folder, a.depth_scale, progress=not a.quiet, realism=realism)
    print(f"wrote {a.n} samples in {len(paths)} shards to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
