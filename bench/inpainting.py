"""RGB inpainting of disocclusion holes: the embedded inpainting model against OpenCV's Telea and Navier-Stokes.

    python -m bench.inpainting [--model assets/inpaint | DIR] [--steps N] [--n 30] [--size 64x64] [--band 3]
        [--indoor SPEC] [--outdoor SPEC] [--quick]

Per image of the completion eval sets (indoor and outdoor apart): a hole from ``bench.completion.draw_hole``
(``depthgen.data.masks.disocclusion_mask`` on the ground-truth depth: the pixels a small random camera motion
uncovers; the same draws, camera motion up to 0.15 x median depth and 5 deg, redrawn while under 1% of the
image). The RGB outside the hole is given, inside it is hidden. Fillers:
- the embedded model, through the backend text3d builds for it (``text3d.backends.registry.build_backend``):
  by default the text-conditioned model (``EmbeddedTextInpaint``: the image's caption as its prompt, holes at
  most 4 px wide filled by Telea as in text3d), or a Palette model folder with ``--model DIR`` (``EmbeddedInpaint``;
  ``scripts/train_embedded.sh`` exports the one of ``configs/depthgen/inpaint.yaml`` to ``runs/inpaint-c4/pipeline``), seeded by ``bench.common.generator``;
- ``cv2.inpaint`` with ``INPAINT_TELEA`` and ``INPAINT_NS``, radius 3 px, on the 8-bit image.
Sizes: like text3d, the image goes to the model at its own size; the pipeline resizes it to its sample
size (64x64) and back, and copies the known pixels back exactly. The default ``--size 64x64`` is text3d's
default view size (the model's resolution), so by default nothing is resized.
Scores (images in [0, 1]): PSNR (dB, capped at ``MAX_PSNR``) and mean absolute error inside the hole and on
its seam band (``bench.completion.seam_band``: hole pixels within ``--band`` px of the border), per-image
values averaged over images. Writes docs/bench_inpainting.{md,json,png} and docs/inpaint_contact_sheet.png.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bench.common import (ASSETS, add_data_args, base_parser, cli_main, eval_sets, fmt, generator, md_table, new_report,
                          pyplot, save_figure, write_outputs)
from bench.completion import draw_hole, seam_band
from depthgen.common.cli import format_size
from depthgen.common.io import as_rgb
from text3d.backends.embedded import CLASSICAL_FILLS, classical_fill
from text3d.backends.registry import build_backend
from text3d.config import load_preset

NAME = "inpainting"
TITLE = "RGB inpainting of disocclusion holes"
METHODS = {"model": "embedded model", "telea": "OpenCV Telea (r=3)", "ns": "OpenCV Navier-Stokes (r=3)"}
REGIONS = {"hole": "whole hole", "seam": "seam band"}
METRICS = {"psnr": "PSNR (dB) ↑", "mae": "MAE ↓"}
HOLE = {"max_translation": 0.15, "max_rotation": 5.0, "min_fraction": 0.01}  # bench.completion's defaults
MAX_PSNR = 100.0  # dB: identical pixels score this instead of infinity
CV_RADIUS = 3
SHEET = "inpaint_contact_sheet.png"
SHEET_ROWS = 8
MAGENTA = (1.0, 0.0, 1.0)


# ------------------------------------------------------------------------------------------------ metrics
def _masked(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(n, C) differences pred - target at the ``mask`` pixels; (H, W, C) images, (H, W) bool mask."""
    if pred.shape != target.shape or mask.shape != pred.shape[:2]:
        raise ValueError(f"shapes differ: pred {pred.shape}, target {target.shape}, mask {mask.shape}")
    return (np.asarray(pred, np.float64) - np.asarray(target, np.float64))[mask]


def psnr(pred: np.ndarray, target: np.ndarray, mask: np.ndarray, max_db: float = MAX_PSNR) -> float:
    """PSNR in dB of (H, W, C) images in [0, 1] over the (H, W) bool ``mask`` pixels (all channels), at most
    ``max_db`` (identical pixels); NaN for an empty mask."""
    d = _masked(pred, target, mask)
    if d.size == 0:
        return float("nan")
    return float(min(-10.0 * math.log10(max(float(np.mean(d ** 2)), 1e-300)), max_db))


def mae(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute error of (H, W, C) images over the (H, W) bool ``mask`` pixels; NaN for an empty mask."""
    d = _masked(pred, target, mask)
    return float(np.mean(np.abs(d))) if d.size else float("nan")


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """{"mean", "num_images"} over the finite per-image values (mean None when there are none)."""
    v = np.asarray([x for x in values if math.isfinite(x)], np.float64)
    return {"mean": float(v.mean()) if v.size else None, "num_images": int(v.size)}


def ranking(metrics: dict, region: str, metric: str) -> list[str]:
    """Methods with a score, best first (PSNR higher is better, MAE lower)."""
    scored = [m for m in metrics if metrics[m][region][metric]["mean"] is not None]
    return sorted(scored, key=lambda m: metrics[m][region][metric]["mean"], reverse=metric == "psnr")


# ------------------------------------------------------------------------------------------------ filling
def fill(method: str, backend: Any, rgb: np.ndarray, hole: np.ndarray, steps: int, g: Any,
         prompt: str = "") -> np.ndarray:
    """(H, W, 3) float32 [0, 1]: ``rgb`` with its ``hole`` (H, W) bool pixels filled by ``method``; ``prompt``
    (the image's caption) reaches a text-conditioned model, as the view's prompt does in text3d."""
    if method == "model":
        return backend.inpaint(rgb, hole, prompt=prompt, steps=steps, generator=g)
    if method in CLASSICAL_FILLS:
        return classical_fill(rgb, hole, method, CV_RADIUS)
    raise ValueError(f"unknown inpainting method {method!r}")


def evaluate_kind(backend: Any, entry: dict, seed: int, steps: int, band: int, keep: int) -> dict:
    """Every method on every image of one set: per-method, per-region means, and up to ``keep`` examples."""
    scores = {m: {r: {k: [] for k in METRICS} for r in REGIONS} for m in METHODS}
    fractions, skipped, examples = [], 0, []
    for i in range(entry["n"]):
        item = entry["data"][i]
        gt = np.asarray(item["depth"], np.float32)
        valid = np.asarray(item.get("valid", gt > 0), bool) & (gt > 0)
        rgb = as_rgb(item["rgb"])
        hole = draw_hole(gt, valid, item.get("K"), seed, i, **HOLE)[0] if valid.any() else valid
        if not hole.any() or hole.all():
            skipped += 1  # nothing hidden, or nothing known to fill from
            continue
        fractions.append(float(hole.mean()))
        regions = {"hole": hole, "seam": seam_band(hole, band)}
        caption = str(item.get("caption", ""))
        fills = {m: fill(m, backend, rgb, hole, steps, generator(seed, i, 1), caption) for m in METHODS}
        for m, out in fills.items():
            for r, mask in regions.items():
                scores[m][r]["psnr"].append(psnr(out, rgb, mask))
                scores[m][r]["mae"].append(mae(out, rgb, mask))
        if len(examples) < keep:
            examples.append({"rgb": rgb, "hole": hole, "fills": fills})
    h, w = as_rgb(entry["data"][0]["rgb"]).shape[:2]
    result = {"spec": entry["spec"], "image_size": format_size(h, w), "num_images": entry["n"] - skipped,
              "skipped": skipped, "mean_hole_fraction": float(np.mean(fractions)) if fractions else None,
              "metrics": {m: {r: {k: summarize(v) for k, v in per.items()} for r, per in by_region.items()}
                          for m, by_region in scores.items()},
              "by_hole_size": by_hole_size(scores, fractions, float(getattr(backend, "expected_fill_below", 0.0)))}
    return {"result": result, "examples": examples}


def by_hole_size(scores: dict, fractions: Sequence[float], small_below: float) -> dict:
    """Whole-hole PSNR per method over the images whose hole (``fractions``: each image's share of the picture)
    is under ``small_below`` ("small": the backend's expected fill) and over the rest ("large": sampled paint)."""
    out: dict[str, Any] = {"small_below": small_below}
    for size in ("small", "large"):
        pick = [i for i, f in enumerate(fractions) if (f < small_below) == (size == "small")]
        out[size] = {"num_images": len(pick),
                     "psnr": {m: summarize([scores[m]["hole"]["psnr"][i] for i in pick])["mean"] for m in METHODS}}
    return out


def size_line(split: dict) -> str:
    """One sentence: whole-hole PSNR of the model and Telea on small and on large holes."""
    if not split.get("small_below"):
        return "Every hole is sampled by this backend (no expected fill for small holes)."
    parts = []
    for size, how in (("small", "the expected fill"), ("large", "sampled paint")):
        r, op = split[size], "under" if size == "small" else "at least"
        parts.append(f"holes {op} {100 * split['small_below']:.0f}% of the picture ({r['num_images']} images, {how}): "
                     f"model {fmt(r['psnr']['model'], 2)} dB, Telea {fmt(r['psnr']['telea'], 2)} dB")
    return "Whole-hole PSNR by hole size: " + "; ".join(parts) + "."


# ----------------------------------------------------------------------------------------------- markdown
def verdict(metrics: dict) -> str:
    """One sentence per region naming the best method by PSNR and by MAE, and by how much."""
    parts = []
    for r, label in REGIONS.items():
        by = {k: ranking(metrics, r, k) for k in METRICS}
        if not by["psnr"]:
            parts.append(f"{label.capitalize()}: no scores.")
            continue
        best, runner = by["psnr"][0], by["psnr"][1] if len(by["psnr"]) > 1 else None
        lead = (f" ({fmt(metrics[best][r]['psnr']['mean'], 2)} dB against {METHODS[runner]}'s "
                f"{fmt(metrics[runner][r]['psnr']['mean'], 2)} dB)") if runner else ""
        mae_best = "it is also best" if by["mae"][0] == best else f"**{METHODS[by['mae'][0]]}** is best"
        parts.append(f"{label.capitalize()}: **{METHODS[best]}** wins on PSNR{lead}; on MAE {mae_best}.")
    model_won = all(ranking(metrics, r, k)[:1] == ["model"] for r in REGIONS for k in METRICS)
    tail = ("The embedded model beats both OpenCV fills on every score." if model_won else
            "The embedded model does not beat OpenCV on every score.")
    return " ".join(parts + [tail])


def markdown(report: dict) -> str:
    res, s = report["results"], report["settings"]
    lines = [f"Model `{s['model']}` (sample size {res['model_resolution']}), {res['steps']} DDIM steps, one sample "
             f"per hole; OpenCV `cv2.inpaint` radius {CV_RADIUS} px. The model gets each image at its own size and "
             "resizes it to its sample size and back (as in text3d). Holes: `disocclusion_mask` as in the completion "
             f"benchmark (camera motion up to {HOLE['max_translation']} x median depth, {HOLE['max_rotation']} deg). "
             f"Seam band: hole pixels within {res['band']} px of the hole border. PSNR on [0, 1] RGB (capped at "
             f"{MAX_PSNR:g} dB) and MAE, per image over the region's pixels, averaged over images."]
    head = ["method"] + [f"{REGIONS[r]} {METRICS[k]}" for r in REGIONS for k in METRICS]
    for kind, r in res["kinds"].items():
        met = r["metrics"]
        rows = [[METHODS[m]] + [fmt(met[m][g][k]["mean"], 2 if k == "psnr" else 4) for g in REGIONS for k in METRICS]
                for m in METHODS]
        frac = r["mean_hole_fraction"]
        lines += ["", f"## {kind.capitalize()}: {r['num_images']} images of {r['image_size']} (`{r['spec']}`)", "",
                  f"Mean hole: {fmt(100 * frac if frac is not None else None, 1)}% of the image; images skipped "
                  f"(no hole or all hole): {r['skipped']}; images with a seam band: "
                  f"{met['model']['seam']['psnr']['num_images']}.", "", md_table(head, rows), "",
                  size_line(r["by_hole_size"]), "",
                  f"Winner: {verdict(met)}"]
    figures = [f"![{NAME}]({f})" for f in report.get("figures", [])]
    if res.get("contact_sheet"):
        figures.append(f"![contact sheet: input with the hole in magenta, model fill, Telea fill, ground truth]"
                       f"({res['contact_sheet']})")
    return "\n".join(lines + [x for f in figures for x in ("", f)])


# ------------------------------------------------------------------------------------------------ figures
def bar_figure(report: dict):
    """Hole and seam PSNR per method, one panel per kind."""
    plt = pyplot()
    kinds = report["results"]["kinds"]
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.5 * len(kinds), 3.4), squeeze=False)
    x, w = np.arange(len(REGIONS)), 0.8 / len(METHODS)
    for ax, (kind, r) in zip(axes[0], kinds.items()):
        for i, m in enumerate(METHODS):
            vals = [np.nan if (v := r["metrics"][m][g]["psnr"]["mean"]) is None else v for g in REGIONS]
            ax.bar(x + (i - (len(METHODS) - 1) / 2) * w, vals, w, label=METHODS[m])
        ax.set(xticks=x, xticklabels=list(REGIONS.values()), ylabel="PSNR dB (higher is better)", title=kind)
        ax.grid(axis="y", alpha=0.3)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="lower center", ncol=len(METHODS), fontsize=7)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def contact_sheet(examples: list[dict]):
    """Rows of: input with the hole in magenta, model fill, Telea fill, ground truth."""
    plt = pyplot()
    cols = {"input + hole": None, METHODS["model"]: "model", METHODS["telea"]: "telea", "ground truth": None}
    h, w = examples[0]["rgb"].shape[:2]
    side = 1.6  # inches per panel's width
    fig, axes = plt.subplots(len(examples), len(cols), figsize=(side * len(cols), side * h / w * len(examples) + 0.2),
                             squeeze=False)
    for row, e in zip(axes, examples):
        shown = np.where(e["hole"][..., None], np.asarray(MAGENTA, np.float32), e["rgb"])
        panels = [shown, e["fills"]["model"], e["fills"]["telea"], e["rgb"]]
        for ax, img in zip(row, panels):
            ax.imshow(np.clip(img, 0, 1), interpolation="nearest")
            ax.axis("off")
    for ax, title in zip(axes[0], cols):
        ax.set_title(title, fontsize=6)
    fig.tight_layout(pad=0.3)
    return fig


# -------------------------------------------------------------------------------------------------- CLI
def build_parser():
    p = base_parser(f"python -m bench.{NAME}", __doc__.split("\n")[0])
    p.add_argument("--model", default=str(ASSETS / "inpaint"),
                   help="inpainting pipeline folder: text-conditioned (default assets/inpaint, text3d's model) "
                        "or a Palette export")
    p.add_argument("--steps", type=int, default=None,
                   help="denoising steps of the model (default: the default text-to-3D preset's steps.inpaint)")
    p.add_argument("--band", type=int, default=3, help="seam band width in pixels (default 3)")
    add_data_args(p, n=30, size="64x64")
    return p


def model_resolution(pipe: Any) -> int:
    """The sample size a pipeline paints at: Palette's ``resolution``, or its UNet's ``sample_size``."""
    return int(pipe.config.get("resolution") or pipe.unet.config.sample_size)


def default_steps() -> int:
    """The inpainting steps text3d's default preset runs (``configs/text3d/default.yaml``)."""
    return int(load_preset("default").steps.inpaint)


def load_backend(path: str, device: str):
    """text3d's inpaint backend over the pipeline folder at ``path``, chosen by its class as text3d chooses it
    (``text3d.backends.registry.build_backend``; progress bars off)."""
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.disable_progress_bar()
    return build_backend("inpaint", path, device)


@cli_main(build_parser)
def main(args: argparse.Namespace) -> int:
    steps = 2 if args.quick else (args.steps if args.steps is not None else default_steps())
    if steps < 1:
        raise ValueError(f"--steps must be >= 1, got {steps}")
    seam_band(np.zeros((2, 2), bool), args.band)  # validates --band before any work
    sets = eval_sets(args)
    report = new_report(NAME, args, args.device)
    backend = load_backend(args.model, args.device)
    res: dict[str, Any] = {"steps": steps, "band": args.band, "model_resolution": model_resolution(backend.pipe),
                           "kinds": {}}
    keep, examples = -(-SHEET_ROWS // len(sets)), []
    for kind, entry in sets.items():
        out = evaluate_kind(backend, entry, args.seed, steps, args.band, keep)
        res["kinds"][kind] = out["result"]
        examples += out["examples"]
    if examples:
        save_figure(contact_sheet(examples[:SHEET_ROWS]), Path(args.out_dir) / SHEET, dpi=100)
        res["contact_sheet"] = SHEET
    report["results"] = res
    write_outputs(report, args.out_dir, TITLE, markdown, {"": bar_figure(report)})
    if examples:
        print(f"wrote {Path(args.out_dir) / SHEET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
