"""Speed and memory: text3d stage times, DepthGen throughput against steps and samples, peak memory, and
the fraction of the machine's measured fp32 peak that the UNet reaches.

    python -m bench.speed [--model assets/depthgen] [--t2i assets/t2i-latent] [--inpaint assets/inpaint-latent]
        [--preset default] [--steps-grid 5 10 20 50] [--samples-grid 1 4 8] [--repeats 3] [--no-text3d] [--quick]

1. ``text3d.generate_scene`` on the preset (models loaded by the run: ``load`` is a stage), in its own process;
   per-stage wall time read from the run's manifest.json (``timings_s``) and the process's peak memory.
2. DepthGen: every (steps, samples) pair in its own process (``bench.speed_worker``): seconds per image
   (median of --repeats calls after a warm-up call) at the model resolution, images/s, and peak resident
   memory (``ru_maxrss`` of that process; resident memory after loading is given beside it).
3. The UNet: FLOPs per forward (``torch.utils.flop_counter``), measured time per forward, and the achieved
   rate as a fraction of the best measured fp32 ``torch.mm`` rate with the same threads (``bench.flops``).
Writes docs/bench_speed.{md,json} and docs/bench_speed.png, docs/bench_speed_stages.png.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

from bench.common import (ASSETS, ROOT, base_parser, cli_main, fmt, load_depth_pipeline, md_table, new_report,
                          positive_ints, pyplot, write_outputs)
from bench.flops import unet_efficiency
from bench.speed_worker import MARKER
from text3d.backends.registry import EMBEDDED
from text3d.config import load_preset

NAME = "speed"
TITLE = "Speed and memory"
# --quick: a smoke test of the harness at 32 px, so without the super-resolution cascade (its base models
# would be 8 px)
QUICK_TEXT3D = ["cleanup.views=0", "trajectory.orbit_degrees=30", "video.frames=4", "video.height=32", "video.width=32",
                "sr.enabled=false"]


def build_parser():
    p = base_parser(f"python -m bench.{NAME}", __doc__.split("\n")[0])
    # defaults: the embedded models a plain text3d run loads (the default preset's backends)
    default = {kind: ASSETS / EMBEDDED[spec][kind] for kind, spec in vars(load_preset("default").backends).items()}
    p.add_argument("--model", default=str(default["depth"]), help="DepthGen pipeline folder")
    p.add_argument("--t2i", default=str(default["t2i"]), help="text-to-image model for the text3d run")
    p.add_argument("--inpaint", default=str(default["inpaint"]), help="inpainting model for the text3d run")
    p.add_argument("--preset", default="default", help="text3d preset (default: default)")
    p.add_argument("--prompt", default="a cozy library", help="prompt of the text3d run")
    p.add_argument("--steps-grid", type=int, nargs="+", default=[5, 10, 20, 50], help="denoising steps to time")
    p.add_argument("--samples-grid", type=int, nargs="+", default=[1, 4, 8], help="sample counts to time")
    p.add_argument("--repeats", type=int, default=3, help="timed calls per configuration (default 3)")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8], help="UNet batch sizes for the FLOP rate")
    p.add_argument("--peak-n", type=int, default=2048, help="matrix size of the fp32 peak measurement")
    p.add_argument("--no-text3d", action="store_true", help="skip the text3d run")
    p.add_argument("--work-dir", default=str(ROOT / "runs" / "bench_speed"), help="folder of the text3d run")
    return p


def run_worker(args: Sequence[str], timeout: float | None = None) -> dict:
    """Run ``python -m bench.speed_worker ARGS`` in a fresh process; its result dict."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.run([sys.executable, "-m", "bench.speed_worker", *args], cwd=str(ROOT), env=env,
                          capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"speed worker {' '.join(args[:1])} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(lines[-1][len(MARKER):])


def text3d_run(args: Any, device: str) -> dict:
    cmd = ["text3d", "--out", str(Path(args.work_dir) / "text3d"), "--t2i", args.t2i, "--inpaint", args.inpaint,
           "--depth", args.model, "--preset", args.preset, "--prompt", args.prompt, "--seed", str(args.seed),
           "--device", device]
    if args.quick:
        cmd += ["--size", "32x32", "--views", "2", "--steps", "2"]
        for o in QUICK_TEXT3D:
            cmd += ["--set", o]
    return run_worker(cmd)


def markdown(report: dict) -> str:
    res, s = report["results"], report["settings"]
    lines: list[str] = []
    t3 = res.get("text3d")
    if t3:
        st = t3["settings"]
        total = t3["timings_s"].get("total")
        lines += ["## text3d.generate_scene stages",
                  "", f"Preset `{s['preset']}` ({st['width']}x{st['height']}, {t3['views']} views incl. clean-up, "
                  f"trajectory {t3['trajectory']}, steps {st['steps']}, {st['depth_samples']} depth samples), "
                  f"prompt \"{s['prompt']}\", models t2i `{s['t2i']}`, inpaint `{s['inpaint']}`, depth `{s['model']}`. "
                  f"Stage wall times from the run's manifest (a stage may run once per view; `own_overhead` = total "
                  f"minus model loading and model calls). Peak resident memory of the run's process: "
                  f"{fmt(t3['peak_rss_mib'], 0)} MiB.", ""]
        rows = [[k, fmt(v, 2), fmt(100 * v / total if total else None, 1)] for k, v in t3["timings_s"].items()]
        lines += [md_table(["stage", "seconds", "% of total"], rows), ""]
    grid = res.get("depthgen", [])
    if grid:
        lines += ["## DepthGen throughput and memory", "",
                  f"`{s['model']}` at its resolution ({grid[0]['resolution']}), one image, "
                  f"DDIM; each configuration in its own process: median of {grid[0]['repeats']} timed call(s) "
                  "after a warm-up call. Peak RSS includes Python, torch and the model (RSS after loading is given beside it).",
                  ""]
        head = ["steps", "samples", "s / image", "images / s", "UNet passes / s", "peak RSS (MiB)",
                "RSS after load (MiB)"]
        rows = [[r["steps"], r["samples"], fmt(r["seconds_per_image"], 3), fmt(r["images_per_s"], 3),
                 fmt(r["unet_forwards_per_image"] / r["seconds_per_image"], 1), fmt(r["peak_rss_mib"], 0),
                 fmt(r["rss_after_load_mib"], 0)] for r in grid]
        lines += [md_table(head, rows, numeric_from=0), ""]
    eff = res.get("efficiency")
    if eff:
        pk = eff["peak"]
        lines += ["## UNet arithmetic efficiency", "",
                  f"{eff['parameters'] / 1e6:.2f} M parameters at {eff['resolution']}, "
                  f"{eff['threads']} torch threads. Measured fp32 peak: {pk['gflops_best']:.1f} GFLOP/s (best of "
                  f"{pk['n']}x{pk['n']} `torch.mm`; median {pk['gflops_median']:.1f}). FLOPs counted by "
                  "`FlopCounterMode` (convolutions, matrix products, attention; element-wise work not counted).", ""]
        head = ["batch", "GFLOP / forward", "ms / forward", "GFLOP/s achieved", "% of measured peak"]
        rows = [[r["batch"], fmt(r["gflop_per_forward"], 3), fmt(1000 * r["seconds_median"], 1),
                 fmt(r["gflops_achieved"], 2), fmt(100 * r["fraction_of_peak"], 1)] for r in eff["rows"]]
        lines += [md_table(head, rows, numeric_from=0), ""]
    for f in report.get("figures", []):
        lines += [f"![{NAME}]({f})", ""]
    return "\n".join(lines)


def figures(report: dict) -> dict[str, Any]:
    plt = pyplot()
    res, figs = report["results"], {}
    grid = res.get("depthgen", [])
    if grid:
        fig, ax = plt.subplots(figsize=(5, 3.6))
        for k in sorted({r["samples"] for r in grid}):
            rs = sorted((r for r in grid if r["samples"] == k), key=lambda r: r["steps"])
            ax.plot([r["steps"] for r in rs], [r["images_per_s"] for r in rs], "o-", label=f"{k} samples")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("denoising steps")
        ax.set_ylabel("images / s")
        ax.set_title("DepthGen throughput")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        figs[""] = fig
    t3 = res.get("text3d")
    if t3:
        stages = {k: v for k, v in t3["timings_s"].items() if k not in ("total", "own_overhead")}
        fig, ax = plt.subplots(figsize=(5, 0.4 * len(stages) + 1.2))
        ax.barh(list(stages), list(stages.values()))
        ax.invert_yaxis()
        ax.set_xlabel("seconds")
        ax.set_title(f"text3d.generate_scene stages (total {t3['timings_s'].get('total', 0):.1f} s)")
        figs["stages"] = fig
    return figs


@cli_main(build_parser)
def main(args: argparse.Namespace) -> int:
    if args.quick:
        args.steps_grid, args.samples_grid, args.repeats, args.batches, args.peak_n = [2], [2], 1, [1, 2], 256
    steps_grid = positive_ints(args.steps_grid, "--steps-grid")
    samples_grid = positive_ints(args.samples_grid, "--samples-grid")
    batches = tuple(positive_ints(args.batches, "--batches"))
    if args.repeats < 1 or args.peak_n < 16:
        raise ValueError("--repeats must be >= 1 and --peak-n >= 16")
    if not (Path(args.model) / "model_index.json").is_file():
        raise ValueError(f"no DepthGen pipeline at {args.model}; give --model DIR")
    report = new_report(NAME, args, args.device)
    res: dict[str, Any] = {}
    if not args.no_text3d:
        res["text3d"] = text3d_run(args, args.device)
        print(f"text3d run: {res['text3d']['timings_s'].get('total')} s")
    res["depthgen"] = []
    for steps in steps_grid:
        for k in samples_grid:
            row = run_worker(["depthgen", "--model", args.model, "--steps", str(steps), "--samples", str(k),
                              "--repeats", str(args.repeats), "--seed", str(args.seed), "--device", args.device])
            res["depthgen"].append(row)
            print(f"depthgen steps={steps} samples={k}: {row['seconds_per_image']:.3f} s/image")

    pipe = load_depth_pipeline(args.model, args.device)
    res["efficiency"] = unet_efficiency(pipe.unet, batches, repeats=max(3, args.repeats), peak_n=args.peak_n,
                                        device=args.device)
    report["results"] = res
    write_outputs(report, args.out_dir, TITLE, markdown, figures(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
