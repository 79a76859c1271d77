"""Depth accuracy on the procedural test split: the paper's table for 1, 2, 4 and 8 samples, indoor (NYU
protocol) and outdoor (KITTI metric set) apart, beside the one-pass regression baseline.

    python -m bench.depth_accuracy [--model assets/depthgen] [--regression assets/regression|none]
        [--samples 1 2 4 8] [--steps N] [--n 50] [--size 320x240] [--indoor SPEC] [--outdoor SPEC] [--quick]

Scoring is ``depthgen.evaluation.evaluate.evaluate_model``: per image, max(samples) samples are drawn once and
the median of the first k is scored for each k; per-image metrics are averaged. The regression baseline is a
``DepthGenPipeline`` saved with ``objective="regression"`` (one deterministic pass; one sample scored).
Writes docs/bench_depth_accuracy.{md,json,png}.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.common import (ASSETS, add_data_args, base_parser, cli_main, eval_sets, figure_lines, fmt,
                          load_depth_pipeline, md_table, new_report, positive_ints, pyplot, scored_protocol,
                          write_outputs)
from depthgen.evaluation.evaluate import evaluate_model
from depthgen.evaluation.metrics import DISPLAY_NAMES, HIGHER_IS_BETTER
from depthgen.evaluation.report import describe_protocols

NAME = "depth_accuracy"
TITLE = "Depth accuracy (procedural test split)"
METRICS = ("delta1", "delta2", "delta3", "abs_rel", "rmse", "log10")  # the paper's table columns


def build_parser():
    p = base_parser(f"python -m bench.{NAME}", __doc__.split("\n")[0])
    p.add_argument("--model", default=str(ASSETS / "depthgen"), help="DepthGen pipeline folder")
    p.add_argument("--regression", default=str(ASSETS / "regression"),
                   help="regression-baseline pipeline folder, or 'none' to leave it out")
    p.add_argument("--samples", type=int, nargs="+", default=[1, 2, 4, 8], help="sample counts (default 1 2 4 8)")
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default: the pipeline's, 20)")
    p.add_argument("--batch-size", type=int, default=None, help="samples per UNet pass (default: all)")
    add_data_args(p, n=50)
    return p


def evaluate_kind(pipe: Any, reg: Any, entry: dict, samples: list[int], steps: int | None, seed: int,
                  batch_size: int | None) -> dict:
    """DepthGen (and the baseline) on one evaluation set; returns metrics per sample count and timings."""
    proto = scored_protocol(entry["data"], entry["protocol"])

    def depthgen(known_camera: bool) -> dict:
        return evaluate_model(pipe, entry["data"], proto, samples=samples, steps=steps, limit=entry["n"], seed=seed,
                              batch_size=batch_size, metrics=METRICS, known_camera=known_camera)

    dg = depthgen(known_camera=False)
    out = {"spec": entry["spec"], "protocol": describe_protocols(dg["protocols"]), "num_images": dg["num_images"],
           "num_empty": dg["num_empty"], "depthgen": dg["metrics"],
           "depthgen_seconds_per_image": dg["seconds_per_image"]}
    if getattr(pipe, "uses_camera", False) and entry["data"][0].get("K") is not None:  # also with the true K
        out["depthgen_known_camera"] = depthgen(known_camera=True)["metrics"]
    if reg is not None:
        rg = evaluate_model(reg, entry["data"], proto, samples=[1], limit=entry["n"], seed=seed, metrics=METRICS)
        out["regression"] = rg["metrics"]["1"]
        out["regression_seconds_per_image"] = rg["seconds_per_image"]
    return out


def call_default(pipe: Any, name: str) -> Any:
    """The default of a pipeline call argument (what a run that does not set it uses)."""
    import inspect

    return inspect.signature(pipe.__call__).parameters[name].default


def markdown(report: dict) -> str:
    res, s = report["results"], report["settings"]
    head = ["model", "samples"] + [f"{DISPLAY_NAMES[m]} {'↑' if m in HIGHER_IS_BETTER else '↓'}" for m in METRICS]
    lines = [f"DepthGen `{s['model']}` ({res.get('steps_used', 'pipeline default')} denoising steps, "
             f"{res.get('scheduler', 'ddim').upper()}), median of the first k of {max(res['samples'])} samples drawn "
             f"per image; " + (f"regression baseline `{s['regression']}` (one pass)." if s["regression"] != "none" else
                                  "no regression baseline (--regression none).")
             + " Per-image metrics averaged over images."]
    if any("depthgen_known_camera" in r for r in res["kinds"].values()):
        lines += ["", "The model uses the camera: \"K given\" rows pass each image's true K, the others let it assume "
                  "its default field of view (60 degrees)."]
    for kind, r in res["kinds"].items():
        rows = [["DepthGen" + (", K assumed" if "depthgen_known_camera" in r else ""), k]
                + [fmt(r["depthgen"][str(k)].get(m)) for m in METRICS] for k in res["samples"]]
        rows += [["DepthGen, K given", k] + [fmt(r["depthgen_known_camera"][str(k)].get(m)) for m in METRICS]
                 for k in res["samples"] if "depthgen_known_camera" in r]
        if "regression" in r:
            rows.append(["regression", "1"] + [fmt(r["regression"].get(m)) for m in METRICS])
        timing = f"DepthGen {fmt(r['depthgen_seconds_per_image'], 2)} s per image ({max(res['samples'])} samples)"
        if "regression_seconds_per_image" in r:
            timing += f", regression {fmt(r['regression_seconds_per_image'], 3)} s per image"
        lines += ["", f"## {kind.capitalize()}: {r['num_images']} images (`{r['spec']}`)", "",
                  f"Protocol: {r['protocol']}. Prediction time: {timing}.", "",
                  md_table(head, rows, numeric_from=1)]
    lines += figure_lines(report)
    return "\n".join(lines)


def figure(report: dict):
    plt = pyplot()
    res = report["results"]
    kinds = list(res["kinds"])
    fig, axes = plt.subplots(2, len(kinds), figsize=(4.2 * len(kinds), 6), squeeze=False)
    ks = res["samples"]
    for j, kind in enumerate(kinds):
        r = res["kinds"][kind]
        for i, (m, label) in enumerate((("delta1", "δ1 (higher is better)"), ("abs_rel", "REL (lower is better)"))):
            ax = axes[i, j]
            ax.plot(ks, [r["depthgen"][str(k)].get(m) for k in ks], "o-", label="DepthGen (median of k)")
            if "regression" in r and r["regression"].get(m) is not None:
                ax.axhline(r["regression"][m], color="grey", ls="--", label="regression baseline")
            ax.set_xscale("log", base=2)
            ax.set_xticks(ks, [str(k) for k in ks])
            ax.set_xlabel("samples k")
            ax.set_ylabel(label)
            ax.set_title(f"{kind} ({r['num_images']} images)")
            ax.grid(alpha=0.3)
            if i == 0 and j == 0:
                ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@cli_main(build_parser)
def main(args: argparse.Namespace) -> int:
    samples = positive_ints([1, 2] if args.quick else args.samples, "--samples")
    steps = 2 if args.quick else args.steps
    if steps is not None and steps < 1:
        raise ValueError(f"--steps must be >= 1, got {steps}")
    sets = eval_sets(args)
    report = new_report(NAME, args, args.device)
    pipe = load_depth_pipeline(args.model, args.device)
    if pipe.config.objective != "diffusion":
        raise ValueError(f"{args.model} is a {pipe.config.objective} model; --model needs a diffusion DepthGen pipeline")
    reg = None
    if args.regression != "none":
        reg = load_depth_pipeline(args.regression, args.device)
        if reg.config.objective != "regression":
            raise ValueError(f"{args.regression} is a {reg.config.objective} model, not a regression baseline; "
                             "export one with configs/depthgen/regression.yaml or pass --regression none")
    res: dict[str, Any] = {"samples": samples, "steps_used": steps or call_default(pipe, "num_inference_steps"),
                           "scheduler": call_default(pipe, "scheduler"), "kinds": {}}
    for kind, entry in sets.items():
        res["kinds"][kind] = evaluate_kind(pipe, reg, entry, samples, steps, args.seed, args.batch_size)
    report["results"] = res
    report["model"] = {"depthgen": str(Path(args.model)), "regression": args.regression}
    write_outputs(report, args.out_dir, TITLE, markdown, {"": figure(report)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
