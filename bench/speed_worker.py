"""One measured configuration in its own process (``bench.speed`` starts one per configuration), so that the
peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) belongs to that configuration alone.

    python -m bench.speed_worker depthgen --model DIR --steps N --samples K [--repeats R] [--seed S] [--device D]
    python -m bench.speed_worker text3d --out DIR --t2i DIR --inpaint DIR --depth DIR [--preset P]
        [--prompt TEXT] [--set key=value ...] [--size WxH] [--views N] [--steps N] [--seed S] [--device D]

Prints one line ``BENCH_RESULT <json>`` on stdout.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Sequence

from depthgen.common.cli import parse_size

MARKER = "BENCH_RESULT "


def rss_mib() -> float | None:
    """Current resident memory of this process in MiB (Linux /proc), None elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def depthgen_job(args: argparse.Namespace) -> dict:
    """Seconds per image of ``pipe(image, num_samples, num_inference_steps)`` (median of repeats after one
    warm-up call) on a seeded random image at the model resolution; memory before and after."""
    import numpy as np
    import torch

    from bench.common import load_depth_pipeline
    from depthgen.models.pipeline_common import model_hw

    t0 = time.perf_counter()
    pipe = load_depth_pipeline(args.model, args.device)
    load_s = time.perf_counter() - t0
    rss_loaded = rss_mib()
    h, w = model_hw(pipe.config.resolution)
    image = np.random.default_rng(args.seed).random((h, w, 3)).astype(np.float32)
    times = []
    for r in range(args.repeats + 1):
        g = torch.Generator().manual_seed(args.seed + r)
        t0 = time.perf_counter()
        pipe(image, num_samples=args.samples, num_inference_steps=args.steps, generator=g)
        if torch.cuda.is_available() and args.device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    timed = times[1:]  # the first call warms up (allocations, kernel selection)
    sec = statistics.median(timed)
    return {"steps": args.steps, "samples": args.samples, "resolution": f"{w}x{h}", "repeats": len(timed),
            "seconds_per_image": sec, "seconds_min": min(timed), "images_per_s": 1.0 / sec,
            "samples_per_s": args.samples / sec, "unet_forwards_per_image": args.steps * args.samples,
            "load_s": load_s, "rss_after_load_mib": rss_loaded, "peak_rss_mib": peak_rss_mib(),
            "threads": torch.get_num_threads()}


def text3d_job(args: argparse.Namespace) -> dict:
    """One ``text3d.generate_scene`` run (models loaded by the run itself, so ``load`` is a stage); the stage
    timings are read back from the written manifest."""
    import text3d

    size = parse_size(args.size) if args.size else None  # (H, W)
    t0 = time.perf_counter()
    result = text3d.generate_scene(args.prompt, out_dir=args.out, preset=args.preset, views=args.views,
                                   steps=args.steps, size=size, seed=args.seed, t2i=args.t2i, inpaint=args.inpaint,
                                   depth=args.depth, device=args.device, overrides=args.overrides)
    wall = time.perf_counter() - t0
    manifest = json.loads(Path(result.paths["manifest"]).read_text())
    return {"timings_s": manifest["timings_s"], "wall_s": wall, "views": len(manifest["views"]),
            "settings": {k: manifest["settings"][k] for k in ("height", "width", "steps", "depth_samples")},
            "trajectory": manifest["settings"]["trajectory"]["name"], "backends": manifest["backends"],
            "mesh_faces": manifest["mesh"]["faces"], "peak_rss_mib": peak_rss_mib()}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.speed_worker")
    sub = p.add_subparsers(dest="job", required=True)
    d = sub.add_parser("depthgen")
    d.add_argument("--model", required=True)
    d.add_argument("--steps", type=int, required=True)
    d.add_argument("--samples", type=int, required=True)
    d.add_argument("--repeats", type=int, default=3)
    t = sub.add_parser("text3d")
    t.add_argument("--out", required=True)
    t.add_argument("--t2i", required=True)
    t.add_argument("--inpaint", required=True)
    t.add_argument("--depth", required=True)
    t.add_argument("--preset", default="default")
    t.add_argument("--prompt", default="a cozy library")
    t.add_argument("--set", dest="overrides", action="append", default=[])
    t.add_argument("--size", default=None, help="WxH")
    t.add_argument("--views", type=int, default=None)
    t.add_argument("--steps", type=int, default=None)
    for q in (d, t):
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--device", default="cpu")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = depthgen_job(args) if args.job == "depthgen" else text3d_job(args)
    print(MARKER + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
