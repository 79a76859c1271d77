"""Depth completion: disocclusion-shaped holes hidden from the ground truth, filled three ways.

    python -m bench.completion [--model assets/depthgen] [--samples 4] [--steps 20] [--n 30] [--size 320x240]
        [--max-translation 0.15] [--band 3] [--indoor SPEC] [--outdoor SPEC] [--quick]

Per image: a hole mask from ``depthgen.data.masks.disocclusion_mask`` (the pixels a small random camera
motion uncovers) on the clean ground-truth depth; the depth outside the hole is given, inside it is hidden.
Fillers:
- DepthGen imputation: ``pipe.complete`` (known pixels imposed at every denoising step);
- predict then align: ``pipe(image)`` then ``depthgen.evaluation.align.align_scale_shift`` fitted on the known pixels;
- nearest-neighbour infill: ``depthgen.data.infill.infill_depth`` (no image, no model).
Errors (REL, RMS from ``depthgen.evaluation.metrics``, the kind's protocol caps) inside the hole and on its seam: the
ring of hole pixels within ``--band`` pixels of the hole border. Writes docs/bench_completion.{md,json,png}.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from bench.common import (ASSETS, add_data_args, base_parser, cli_main, eval_sets, figure_lines, fmt, generator,
                          load_depth_pipeline, md_table, new_report, pyplot, sampling_budget, scored_protocol,
                          write_outputs)
from depthgen.data.infill import infill_depth
from depthgen.data.masks import disocclusion_mask
from depthgen.evaluation.align import align_scale_shift
from depthgen.evaluation.metrics import aggregate_metrics, compute_metrics

NAME = "completion"
TITLE = "Depth completion of disocclusion holes"
METHODS = {"depthgen": "DepthGen imputation (complete)", "align": "predict + scale/shift alignment",
           "nearest": "nearest-neighbour infill"}
REGIONS = {"hole": "whole hole", "seam": "seam band"}
METRICS = ("abs_rel", "rmse")
MAX_TRIES = 5


def build_parser():
    p = base_parser(f"python -m bench.{NAME}", __doc__.split("\n")[0])
    p.add_argument("--model", default=str(ASSETS / "depthgen"), help="DepthGen pipeline folder")
    p.add_argument("--samples", type=int, default=4, help="samples per fill, both DepthGen methods (default 4)")
    p.add_argument("--steps", type=int, default=20, help="denoising steps (default 20)")
    p.add_argument("--max-translation", type=float, default=0.15,
                   help="camera motion radius as a fraction of the median depth (default 0.15)")
    p.add_argument("--max-rotation", type=float, default=5.0, help="camera rotation bound, degrees (default 5)")
    p.add_argument("--band", type=int, default=3, help="seam band width in pixels (default 3)")
    p.add_argument("--min-hole", type=float, default=0.01,
                   help="redraw the motion (up to 5 times) while the hole covers less of the image (default 0.01)")
    add_data_args(p, n=30)
    return p


def seam_band(hole: np.ndarray, width: int) -> np.ndarray:
    """(H, W) bool: hole pixels within ``width`` pixels (Euclidean) of a non-hole pixel."""
    from scipy.ndimage import distance_transform_edt

    if width < 1:
        raise ValueError(f"--band must be >= 1 pixel, got {width}")
    if hole.all():
        return np.zeros_like(hole)
    return hole & (distance_transform_edt(hole) <= width)


def draw_hole(depth: np.ndarray, valid: np.ndarray, K: Any, seed: int, index: int, max_translation: float,
              max_rotation: float, min_fraction: float) -> tuple[np.ndarray, int]:
    """A disocclusion hole with at least ``min_fraction`` of the image in scorable ground truth (redrawn up to
    MAX_TRIES times); returns (hole (H, W) bool, tries used). The last draw is returned even if small.
    ``valid`` must have at least one pixel."""
    # Pixels without depth (sky) are warped as a far background, so that they do not all count as holes.
    far = infill_depth(np.where(valid, depth, 0), valid, outdoor=True, sky_depth=10.0 * float(depth[valid].max()))
    g = generator(seed, index, 0)
    hole = np.zeros_like(valid)
    for tries in range(1, MAX_TRIES + 1):
        hole = disocclusion_mask(far, g, K, max_translation, max_rotation)
        if (hole & valid).mean() >= min_fraction and (valid & ~hole).any():
            break
    return hole, tries


def fill(method: str, pipe: Any, rgb: np.ndarray, known_depth: np.ndarray, known: np.ndarray, samples: int,
         steps: int, g: Any) -> np.ndarray:
    """(H, W) float32 depth filled by ``method`` (known pixels kept as given by each method)."""
    if method == "depthgen":
        return pipe.complete(rgb, known_depth, known, num_samples=samples, num_inference_steps=steps, generator=g).depth
    if method == "align":
        pred = pipe(rgb, num_samples=samples, num_inference_steps=steps, generator=g).depth
        aligned = align_scale_shift(pred, known_depth, known)[0]  # as text3d's depth_completion="align"
        return np.where(known, known_depth, aligned).astype(np.float32)
    if method == "nearest":
        return infill_depth(known_depth, valid=known)
    raise ValueError(f"unknown completion method {method!r}")


def evaluate_kind(pipe: Any, entry: dict, args: Any, samples: int, steps: int, band: int) -> dict:
    """Every method on every image of one set; means of REL / RMS per method and region, plus an example."""
    data, proto = entry["data"], scored_protocol(entry["data"], entry["protocol"])
    rows: dict[str, dict[str, list]] = {m: {r: [] for r in REGIONS} for m in METHODS}
    fractions, skipped, example = [], 0, None
    for i in range(entry["n"]):
        item = data[i]
        gt = np.asarray(item["depth"], np.float32)
        valid = np.asarray(item.get("valid", gt > 0), bool) & (gt > 0)
        rgb = np.asarray(item["rgb"])
        rgb = rgb.astype(np.float32) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float32)
        if not valid.any():
            skipped += 1
            continue
        hole, _ = draw_hole(gt, valid, item.get("K"), args.seed, i, args.max_translation, args.max_rotation,
                            args.min_hole)
        known = valid & ~hole
        if not valid.any() or not (hole & valid).any() or known.sum() < 2:
            skipped += 1
            continue
        fractions.append(float((hole & valid).mean()))
        known_depth = np.where(known, gt, 0).astype(np.float32)
        regions = {"hole": hole & valid, "seam": seam_band(hole, band) & valid}
        fills = {}
        for m in METHODS:
            fills[m] = fill(m, pipe, rgb, known_depth, known, samples, steps, generator(args.seed, i, 1))
            for r, mask in regions.items():
                rows[m][r].append(compute_metrics(fills[m], gt, mask, proto, metrics=METRICS))
        if example is None:
            example = {"rgb": rgb, "gt": np.where(valid, gt, 0), "hole": hole, "fills": fills}
    result = {"spec": entry["spec"], "protocol": proto.to_dict(), "num_images": entry["n"] - skipped,
              "skipped": skipped, "mean_hole_fraction": float(np.mean(fractions)) if fractions else None,
              "metrics": {m: {r: aggregate_metrics(rows[m][r], METRICS) for r in REGIONS} for m in METHODS}}
    return {"result": result, "example": example}


def markdown(report: dict) -> str:
    res, s = report["results"], report["settings"]
    lines = [f"Model `{s['model']}`; {res['samples']} samples and {res['steps']} DDIM steps for both DepthGen fills. "
             f"Holes: `disocclusion_mask` (camera motion up to {s['max_translation']} x median depth, "
             f"{s['max_rotation']} deg), redrawn up to {MAX_TRIES} times while under {s['min_hole']:.0%} of the image. "
             f"Seam band: hole pixels within {res['band']} px of the hole border. Errors on ground-truth pixels "
             "inside each region, per-image means averaged over images (depth caps of the kind's protocol)."]
    head = ["method"] + [f"{REGIONS[r]} {n} ↓" for r in REGIONS for n in ("REL", "RMS (m)")]
    for kind, r in res["kinds"].items():
        rows = [[METHODS[m]] + [fmt(r["metrics"][m][reg].get(x)) for reg in REGIONS for x in METRICS] for m in METHODS]
        lines += ["", f"## {kind.capitalize()}: {r['num_images']} images (`{r['spec']}`)", "",
                  f"Mean scored hole (hole pixels with ground truth): "
                  f"{fmt(100 * r['mean_hole_fraction'] if r['mean_hole_fraction'] is not None else None, 1)}"
                  f"% of the image; images skipped (no scorable hole): {r['skipped']}.", "",
                  md_table(head, rows)]
    lines += figure_lines(report)
    return "\n".join(lines)


def bar_figure(report: dict):
    plt = pyplot()
    kinds = list(report["results"]["kinds"])
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.5 * len(kinds), 3.4), squeeze=False)
    width = 0.8 / len(METHODS)
    for j, kind in enumerate(kinds):
        ax, met = axes[0, j], report["results"]["kinds"][kind]["metrics"]
        for i, m in enumerate(METHODS):
            vals = [met[m][r].get("abs_rel") for r in REGIONS]
            vals = [np.nan if v is None else v for v in vals]
            ax.bar(np.arange(len(REGIONS)) + (i - (len(METHODS) - 1) / 2) * width, vals, width, label=METHODS[m])
        ax.set_xticks(range(len(REGIONS)), list(REGIONS.values()))
        ax.set_ylabel("REL (lower is better)")
        ax.set_title(kind)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def example_figure(examples: dict[str, dict]):
    plt = pyplot()
    kinds = [k for k, e in examples.items() if e is not None]
    cols = 3 + len(METHODS)
    fig, axes = plt.subplots(len(kinds), cols, figsize=(2.2 * cols, 2.0 * len(kinds)), squeeze=False)
    for i, kind in enumerate(kinds):
        e = examples[kind]
        lo, hi = np.percentile(e["gt"][e["gt"] > 0], [2, 98]) if (e["gt"] > 0).any() else (0, 1)
        panels = [("image", e["rgb"], None), ("hole", e["hole"], "gray"), ("ground truth", e["gt"], "turbo")]
        panels += [(METHODS[m].split(" (")[0], e["fills"][m], "turbo") for m in METHODS]
        for j, (title, img, cmap) in enumerate(panels):
            ax = axes[i, j]
            kw = {"vmin": lo, "vmax": hi} if cmap == "turbo" else {}
            ax.imshow(img, cmap=cmap, **kw)
            ax.set_title(f"{kind}: {title}" if j == 0 else title, fontsize=7)
            ax.axis("off")
    fig.tight_layout()
    return fig


@cli_main(build_parser)
def main(args: argparse.Namespace) -> int:
    samples, steps = sampling_budget(args, quick=(2, 2))
    if not 0 < args.max_translation <= 1 or not 0 <= args.min_hole < 1:
        raise ValueError("--max-translation must be in (0, 1] and --min-hole in [0, 1)")
    seam_band(np.zeros((2, 2), bool), args.band)  # validates --band before any work
    sets = eval_sets(args)
    report = new_report(NAME, args, args.device)
    pipe = load_depth_pipeline(args.model, args.device)
    res: dict[str, Any] = {"samples": samples, "steps": steps, "band": args.band, "kinds": {}}
    examples = {}
    for kind, entry in sets.items():
        out = evaluate_kind(pipe, entry, args, samples, steps, args.band)
        res["kinds"][kind], examples[kind] = out["result"], out["example"]
    report["results"] = res
    figures = {"": bar_figure(report)}
    if any(e is not None for e in examples.values()):
        figures["example"] = example_figure(examples)
    write_outputs(report, args.out_dir, TITLE, markdown, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
