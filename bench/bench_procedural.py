"""Benchmark the procedural RGB-D generator: images per second at 64x64 and 256x256, plain and with realism.

    python -m bench.bench_procedural [--n64 300] [--n256 60] [--workers 2] [--realism both|off|on]
        [--out docs/procedural_speed]

For each size (and realism setting) it renders ``generate_sample(split_seed("train", i), size, "kinect",
realism=...)`` with ``--workers`` processes (wall-clock images/s, what the shard writer gets) and in one
process (CPU ms per image, which is less sensitive to other jobs on the machine). The machine's load average
is recorded next to the numbers, since the cores may be shared. Writes ``<out>.json`` and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

from depthgen.common.io import write_json, write_text
from depthgen.data.procedural import generate_sample, split_seed


def _one(args: tuple[int, int, str]) -> int:
    i, s, realism = args
    generate_sample(split_seed("train", i), (s, s), "kinect", realism=realism)
    return i


def measure(size: int, n: int, workers: int, realism: str = "off") -> dict:
    generate_sample(split_seed("train", 10_000), (size, size), "kinect", realism=realism)  # warm-up: imports
    n_cpu = max(10, n // 4)
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(n_cpu):
        generate_sample(split_seed("train", i), (size, size), "kinect", realism=realism)
    cpu_ms = (time.process_time() - c0) / n_cpu * 1000
    wall_1 = n_cpu / (time.perf_counter() - t0)
    load0 = os.getloadavg()[0]
    ctx = mp.get_context("fork")
    with ctx.Pool(workers) as pool:
        list(pool.imap(_one, [(20_000 + i, size, realism) for i in range(2 * workers)]))  # warm the workers
        t0 = time.perf_counter()
        list(pool.imap(_one, [(i, size, realism) for i in range(n)], chunksize=4))
        wall = time.perf_counter() - t0
    return {"size": f"{size}x{size}", "realism": realism, "n": n, "workers": workers, "images_per_s": round(n / wall, 1),
            "single_process_images_per_s": round(wall_1, 1), "cpu_ms_per_image": round(cpu_ms, 1),
            "cpu_bound_images_per_s_on_workers_cores": round(workers * 1000 / cpu_ms, 1),
            "load_average_1min_before": round(load0, 2), "load_average_1min_after": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n64", type=int, default=300)
    p.add_argument("--n256", type=int, default=60)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--realism", default="both", choices=("both", "off", "on"),
                   help="plain engine, all sim-to-real effects, or both (default)")
    p.add_argument("--out", default="docs/procedural_speed")
    a = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    modes = ("off", "on") if a.realism == "both" else (a.realism,)
    rows = [measure(size, n, a.workers, mode) for size, n in ((64, a.n64), (256, a.n256)) for mode in modes]
    info = {"cpu_count": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine(),
            "date": time.strftime("%Y-%m-%d %H:%M"), "targets_images_per_s": {"64x64": 100, "256x256": 20}}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out.with_suffix(".json"), {"results": rows, "info": info})
    lines = ["# Procedural generator speed", "",
             f"`python -m bench.bench_procedural` on {info['cpu_count']} cores (shared with other jobs; see the load "
             f"average), {info['date']}. Each image: build the scene, choose the camera, ray-cast, shade with "
             "shadows, Kinect sensor model, captions; with realism on also posters and clutter, light colours, "
             "detailed textures, specular highlights and the camera's image formation (AO, blur, vignetting, "
             "exposure and tone curve, noise, white balance, JPEG).", "",
             "| size | realism | workers | images/s (wall) | 1 process images/s | CPU ms / image | CPU-bound images/s "
             "on `workers` idle cores | load avg before / after |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['size']} | {r.get('realism', 'off')} | {r['workers']} | {r['images_per_s']} | "
                     f"{r['single_process_images_per_s']} | "
                     f"{r['cpu_ms_per_image']} | {r['cpu_bound_images_per_s_on_workers_cores']} | "
                     f"{r['load_average_1min_before']} / {r['load_average_1min_after']} |")
    lines += ["", "Targets: >= 100 images/s at 64x64 and >= 20 images/s at 256x256 on 2 cores. The wall-clock "
              "figure depends on what else runs on the cores; the CPU-bound column is 2 x 1000 / (CPU ms per "
              "image), the rate on two otherwise idle cores.", ""]
    write_text(out.with_suffix(".md"), "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
