"""Depth on real photographs: the shared 7-Scenes kitchen (Kinect v1 frames), DepthGen against baselines.

    python -m bench.real_depth [--data ../shared/data/real-7scenes-redkitchen] [--model assets/depthgen]
        [--regression assets/regression|none] [--samples 4] [--steps N] [--stride 1] [--frames A-B]
        [--ramp-ratio 2.0]
        [--camera known|default] [--sheet 6] [--quick]

Camera: by default each frame's K (``meta.json``) reaches the depth models (the true field of view; models
without camera options ignore it); ``--camera default`` lets them assume their default field of view.
Frames: every ``--stride``-th frame of the folder's sorted names (all 250 at stride 1), so the subset is fixed.
Scored with the NYU protocol (the same Kinect v1 sensor and 640x480 frames: Eigen crop, depth caps 1 mm-10 m),
per frame, then averaged over frames. Methods, each scored as predicted ("metric") and median-scaled
(prediction x median(true) / median(predicted) over the scored pixels, per frame):
- DepthGen: median of ``--samples`` samples (seeded per frame with ``depthgen.evaluation.evaluate.image_seed``);
- regression: the one-pass regression baseline (``--regression``);
- ramp: a fixed vertical ramp, depth linear in the image row from 1 at the bottom row to ``--ramp-ratio`` at
  the top (a floor-and-wall prior); only its shape means something, so only median-scaled;
- constant: median-scaled, the frame's true median everywhere (the best constant for that frame, in the
  median sense); "metric", one constant for every frame fitted on this set to minimise mean REL (an oracle,
  shown only as a bound).
Writes docs/bench_real_depth.{md,json,png}, a contact sheet docs/bench_real_depth_sheet.png and per-frame
figures docs/bench_real_depth_frames.csv. Without the data folder the script prints one line and exits 0.

Resumable: every scored frame is appended to a cache in ``--work-dir`` (``frames-<key>.jsonl``, the key
hashing the data, both models' weights and the settings), and a later run with the same key reuses those frames
instead of predicting them again (the contact-sheet frames are always predicted, since the sheet needs their
depth maps); ``--no-cache`` turns this off. The report says how many frames were reused and over how many
frames the prediction time was measured.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.common import (ASSETS, ROOT, base_parser, cli_main, figure_lines, fmt, jsonable, load_depth_pipeline,
                          md_table, new_report, pyplot, real_data_dir, write_outputs, write_text)
from bench.depth_accuracy import call_default
from depthgen.common.io import colorize_depth
from depthgen.data.folder import FolderDataset
from depthgen.data.registry import select_frames
from depthgen.evaluation.evaluate import image_seed, pipeline_predict_fn
from depthgen.evaluation.metrics import compute_metrics, eval_mask, get_protocol

NAME = "real_depth"
TITLE = "Depth on real photographs (7-Scenes kitchen)"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "real-7scenes-redkitchen"
METRICS = ("abs_rel", "delta1", "rmse", "log10")
VARIANTS = ("metric", "scaled")
METHODS = ("depthgen", "regression", "ramp", "constant")
LABELS = {"depthgen": "DepthGen", "regression": "regression baseline", "ramp": "vertical ramp prior",
          "constant": "constant depth"}
CONSTANT_GRID = np.exp(np.linspace(np.log(0.3), np.log(10.0), 400))  # metres, for the oracle constant


def build_parser():
    p = base_parser(f"python -m bench.{NAME}", __doc__.split("\n")[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="real RGB-D folder (rgb/, depth/, meta.json)")
    p.add_argument("--model", default=str(ASSETS / "depthgen"), help="DepthGen pipeline folder")
    p.add_argument("--regression", default=str(ASSETS / "regression"), help="regression pipeline folder or 'none'")
    p.add_argument("--samples", type=int, default=4, help="DepthGen samples per frame (default 4)")
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default: the pipeline's)")
    p.add_argument("--stride", type=int, default=1, help="score every N-th frame (default 1: all)")
    p.add_argument("--frames", default=None,
                   help="keep frames numbered A-B (e.g. 600-999, the measuring frames) or listed in a file")
    p.add_argument("--ramp-ratio", type=float, default=2.0, help="ramp prior: top-row / bottom-row depth")
    p.add_argument("--camera", choices=("known", "default"), default="known",
                   help="known (default): each frame's K from meta.json reaches the model (the true field of view); "
                        "default: the model assumes its default field of view")
    p.add_argument("--sheet", type=int, default=6, help="frames on the contact sheet (default 6)")
    p.add_argument("--work-dir", default=str(ROOT / "runs" / "bench_real_depth"), help="per-frame cache folder")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the per-frame cache")
    return p


# --------------------------------------------------------------------------------------------------- cache
def _weights_stamp(folder: str) -> list:
    """(name, size, mtime) of every weights file under a pipeline folder ('none' -> [])."""
    root = Path(folder)
    if not root.is_dir():
        return []
    return sorted((str(f.relative_to(root)), f.stat().st_size, int(f.stat().st_mtime))
                  for f in root.rglob("*.safetensors"))


def cache_path(args: argparse.Namespace, samples: int, steps: int | None) -> Path:
    """The per-frame cache file for these data, models and settings."""
    key = {"data": str(Path(args.data).resolve()), "model": _weights_stamp(args.model),
           "regression": _weights_stamp(args.regression) if args.regression != "none" else "none",
           "samples": samples, "steps": steps, "seed": args.seed, "ramp_ratio": args.ramp_ratio}
    if args.camera != "known":  # the key of a known-camera run is the one its cache was written under
        key["camera"] = args.camera
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return Path(args.work_dir) / f"frames-{digest}.jsonl"


def read_cache(path: Path | None) -> dict[str, dict]:
    """{frame name: row} from a cache file (missing file or None -> {}; a torn last line is ignored)."""
    if path is None or not path.is_file():
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        rows[row["name"]] = row
    return rows


# ------------------------------------------------------------------------------------------------- priors
def ramp_depth(shape: tuple[int, int], ratio: float) -> np.ndarray:
    """(H, W) float32: 1 at the bottom row rising linearly to ``ratio`` at the top row (unitless shape)."""
    h, w = shape
    t = 1.0 - (np.arange(h, dtype=np.float64) + 0.5) / h  # 1 at the top, 0 at the bottom
    return np.repeat((1.0 + (ratio - 1.0) * t)[:, None], w, axis=1).astype(np.float32)


def best_constant(gts: list[np.ndarray]) -> tuple[float, float]:
    """(c, mean REL): the one depth c (metres) minimising the mean over frames of mean(|c - gt| / gt)."""
    rel = np.array([[np.mean(np.abs(c - g) / g) for c in CONSTANT_GRID] for g in gts]).mean(0)
    i = int(np.argmin(rel))
    return float(CONSTANT_GRID[i]), float(rel[i])


# -------------------------------------------------------------------------------------------------- scoring
def median_of(predict: Any, k: int) -> Any:
    """A predictor (rgb, k_ignored, generator, K=None) -> (H, W): the median of ``k`` samples of ``predict``
    (given the camera ``K`` (3, 3) when it is passed)."""
    def fn(rgb: np.ndarray, _k: int, g: Any, K: np.ndarray | None = None) -> np.ndarray:
        return np.median(predict(rgb, k, g, K=K), axis=0).astype(np.float32)

    return fn


def score(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray, scaled: bool) -> dict[str, float]:
    """NYU-protocol metrics of one prediction (H, W) metres; adds ``pred_median`` over the scored pixels."""
    proto = get_protocol("nyu")
    m = compute_metrics(pred, gt, valid, proto, median_scaling=scaled, metrics=METRICS)
    mask = eval_mask(gt, valid, proto)
    m["pred_median"] = float(np.median(pred[mask])) * (m["scale"] if scaled else 1.0) if mask.any() else float("nan")
    return m


def frame_rows(ds: Any, indices: list[int], predictors: dict[str, Any], seed: int, samples: int,
               sheet_at: set[int], cache: Path | None = None,
               known_camera: bool = True) -> tuple[list[dict], list[np.ndarray], dict[int, dict]]:
    """Per-frame metrics of every method; the scored ground-truth pixels (for the oracle constant); small
    copies of the predictions of the contact-sheet frames. Frames found in ``cache`` are reused (rows marked
    ``cached``); new rows are appended to it. ``known_camera``: each predictor gets the frame's ``K``."""
    rows, gts, sheet = [], [], {}
    proto = get_protocol("nyu")
    cached = read_cache(cache)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
    for j, i in enumerate(indices):
        item = ds[i]
        gt, valid = item["depth"], item["valid"]
        mask = eval_mask(gt, valid, proto)
        gts.append(gt[mask][:: max(1, int(mask.sum()) // 4000)].astype(np.float64))
        if item["name"] in cached and i not in sheet_at:
            rows.append({**cached[item["name"]], "index": i, "cached": True})
            continue
        rgb = item["rgb"].astype(np.float32) / 255.0
        row: dict[str, Any] = {"index": i, "name": item["name"], "seconds": {}}
        row["gt_median"] = float(np.median(gt[mask]))
        preds: dict[str, np.ndarray] = {}
        camera = {"K": item.get("K")} if known_camera else {}
        for name, fn in predictors.items():
            g = torch.Generator("cpu").manual_seed(image_seed(seed, i))
            t0 = time.perf_counter()
            preds[name] = fn(rgb, samples, g, **camera)
            row["seconds"][name] = time.perf_counter() - t0
        for name, pred in preds.items():
            row[name] = {v: score(pred, gt, valid, v == "scaled") for v in VARIANTS
                         if v == "scaled" or name in ("depthgen", "regression")}
        rows.append(row)
        if cache is not None:
            with open(cache, "a", encoding="utf-8") as f:
                f.write(json.dumps(jsonable(row)) + "\n")
        if i in sheet_at:
            sheet[i] = {"rgb": item["rgb"], "gt": gt, **{k: v for k, v in preds.items() if k != "constant"}}
        print(f"frame {item['name']} ({j + 1}/{len(indices)}): DepthGen REL {fmt(row['depthgen']['metric']['abs_rel'])} "
              f"metric, {fmt(row['depthgen']['scaled']['abs_rel'])} scaled", flush=True)
    return rows, gts, sheet


def summarise(rows: list[dict], const: tuple[float, float], gts: list[np.ndarray]) -> dict:
    """Means over frames per method and variant; the oracle global constant's REL and δ1."""
    out: dict[str, Any] = {}
    for name in METHODS:
        out[name] = {}
        for v in VARIANTS:
            vals = [r[name][v] for r in rows if name in r and v in r[name] and r[name][v]["n_valid"] > 0]
            if vals:
                out[name][v] = {k: float(np.mean([x[k] for x in vals])) for k in (*METRICS, "pred_median")}
                out[name][v]["frames"] = len(vals)
    c, rel = const
    d1 = float(np.mean([np.mean(np.maximum(c / g, g / c) < 1.25) for g in gts]))
    out["constant"]["metric"] = {"abs_rel": rel, "delta1": d1, "value_m": c, "frames": len(gts),
                                 "oracle": True}
    out["gt_median"] = float(np.mean([r["gt_median"] for r in rows]))
    return out


# ------------------------------------------------------------------------------------------------- outputs
def markdown(report: dict) -> str:
    """The report's markdown body: what was measured, the table of methods, time, targets and figures."""
    res = report["results"]
    sm = res["summary"]
    head = ["method", "variant", "REL ↓", "δ1 ↑", "RMS (m) ↓", "log10 ↓", "median predicted depth (m)"]
    lines = [describe(report), "", md_table(head, table_rows(sm), numeric_from=2), "",
             f"Mean true median depth of the frames: {fmt(sm['gt_median'], 2)} m. "
             f"Per-frame figures: [{res['csv']}]({res['csv']}). " + timing_note(report)]
    tgt = res.get("targets")
    if tgt:
        lines += ["", targets_note(tgt, res["samples"], sm["depthgen"]["metric"]["abs_rel"])]
    lines += figure_lines(report)
    return "\n".join(lines)


def describe(report: dict) -> str:
    """The paragraph above the table: the frames and their scoring, DepthGen's settings, the two variants and
    the baselines."""
    res, model = report["results"], report["settings"]["model"]
    every = "all" if res["stride"] == 1 else f"every {res['stride']}th"
    if res.get("frames_selected"):
        every += f" of frames {res['frames_selected']}"
    constant_m = fmt(res["summary"]["constant"]["metric"].get("value_m"), 2)
    data = (f"Data `{res['data']}`: {res['frames']} of {res['frames_total']} real Kinect v1 frames ({every}), "
            "640x480, scored with the NYU protocol (Eigen crop, caps 1 mm-10 m), metrics per frame averaged over "
            "frames.")
    method = f"DepthGen `{model}`: median of {res['samples']} samples, {res['steps_used']} steps."
    variants = "**metric**: as predicted; **median-scaled**: x median(true) / median(predicted) per frame."
    ramp = f"Ramp: depth linear in the row, top / bottom = {res['ramp_ratio']:g}."
    constant = (f"Constant, metric: one depth for every frame ({constant_m} m), fitted on this set to minimise "
                "REL (an oracle bound, not a method).")
    return " ".join([data, method, variants, ramp, constant])


def table_rows(sm: dict) -> list[list[str]]:
    """One row per method and variant present in the summary: label, variant, METRICS, median prediction."""
    rows = []
    for name in METHODS:
        for v in VARIANTS:
            m = sm.get(name, {}).get(v)
            if m is None:
                continue
            label = "metric (oracle constant)" if m.get("oracle") else ("metric" if v == "metric" else "median-scaled")
            rows.append([LABELS[name], label] + [fmt(m.get(k)) for k in METRICS] + [fmt(m.get("pred_median"), 2)])
    return rows


def timing_note(report: dict) -> str:
    """DepthGen's seconds per frame, and how many frames were reused from the per-frame cache."""
    res = report["results"]
    note = (f"DepthGen time: {fmt(res['seconds_per_frame'].get('depthgen'), 2)} s per frame on "
            f"{report['machine'].get('device')}")
    if not res.get("frames_reused"):
        return note + "."
    return (note + f", measured on the {res['frames_timed']} frames predicted in this run; the other "
            f"{res['frames_reused']} were reused from the per-frame cache of an earlier run with the same data, "
            "weights and settings.")


def targets_note(tgt: dict, samples: int, metric_rel: float) -> str:
    """Whether the issue 21 targets are met (median-scaled), and DepthGen's unscaled REL."""
    def met(ok: bool) -> str:
        return "met" if ok else "not met"

    return (f"Issue 21 targets ({samples} samples, median-scaled): REL ≤ 0.20 — {met(tgt['rel_le_0.20'])}; "
            f"at least 25% better than the ramp on REL and δ1 — {met(tgt['beats_ramp_25pct'])} "
            f"(REL {fmt(tgt['rel_vs_ramp'], 2)} x the ramp's, δ1 {fmt(tgt['delta1_vs_ramp'], 2)} x the ramp's). "
            f"Without scaling: REL {fmt(metric_rel)} (aim ≤ 0.35).")


def targets(sm: dict) -> dict | None:
    dg, ramp = sm.get("depthgen", {}).get("scaled"), sm.get("ramp", {}).get("scaled")
    if dg is None or ramp is None:
        return None
    rel_ratio = dg["abs_rel"] / ramp["abs_rel"]
    d1_ratio = dg["delta1"] / max(ramp["delta1"], 1e-9)
    return {"rel_le_0.20": dg["abs_rel"] <= 0.20, "rel_vs_ramp": rel_ratio, "delta1_vs_ramp": d1_ratio,
            "beats_ramp_25pct": rel_ratio <= 0.75 and d1_ratio >= 1.25}


def frames_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    cols = ["index", "name", "gt_median"]
    keys = [(n, v, k) for n in METHODS for v in VARIANTS for k in (*METRICS, "pred_median", "scale")
            if v in rows[0].get(n, {})]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols + [f"{n}_{v}_{k}" for n, v, k in keys])
    for r in rows:
        w.writerow([r["index"], r["name"], f"{r['gt_median']:.4f}"]
                   + [f"{r[n][v][k]:.5g}" for n, v, k in keys])
    return buf.getvalue()


def summary_figure(report: dict):
    plt = pyplot()
    rows = report["results"]["frames_rows"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    x = [r["index"] for r in rows]
    for name, style in (("depthgen", "-"), ("regression", "--"), ("ramp", ":"), ("constant", "-.")):
        if name in rows[0]:
            axes[0].plot(x, [r[name]["scaled"]["abs_rel"] for r in rows], style, lw=1, label=f"{LABELS[name]}, scaled")
    axes[0].plot(x, [r["depthgen"]["metric"]["abs_rel"] for r in rows], "-", lw=1, alpha=0.6, label="DepthGen, metric")
    axes[0].set_xlabel("frame index in the sequence")
    axes[0].set_ylabel("REL (lower is better)")
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=7)
    axes[0].grid(alpha=0.3)
    ax = axes[1]
    ax.scatter([r["gt_median"] for r in rows], [r["depthgen"]["metric"]["pred_median"] for r in rows], s=6,
               label="DepthGen")
    if "regression" in rows[0]:
        ax.scatter([r["gt_median"] for r in rows], [r["regression"]["metric"]["pred_median"] for r in rows], s=6,
                   label="regression")
    lim = [0, max(6.0, max(r["depthgen"]["metric"]["pred_median"] for r in rows) * 1.05)]
    ax.plot(lim, lim, "k:", lw=1)
    ax.set_xlabel("true median depth (m)")
    ax.set_ylabel("predicted median depth, no scaling (m)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def contact_sheet(sheet: dict[int, dict]):
    """Rows = frames; columns: photo, true depth, DepthGen scaled and metric, regression scaled (when it ran),
    ramp scaled. Depth colours share the true depth's range per row (near = warm)."""
    plt = pyplot()
    with_regression = all("regression" in d for d in sheet.values())
    cols = ["photo", "true depth", "DepthGen (median-scaled)", "DepthGen (metric)",
            *(["regression (scaled)"] if with_regression else []), "ramp (scaled)"]
    fig, axes = plt.subplots(len(sheet), len(cols), figsize=(2.3 * len(cols), 1.85 * len(sheet)), squeeze=False)
    for r, (i, d) in enumerate(sorted(sheet.items())):
        gt = d["gt"]
        ok = gt > 0
        lo, hi = float(np.percentile(gt[ok], 1)), float(np.percentile(gt[ok], 99))

        def scaled(p):
            return p * np.median(gt[ok]) / np.median(p[ok])

        panels = [d["rgb"], colorize_depth(gt, lo, hi), colorize_depth(scaled(d["depthgen"]), lo, hi),
                  colorize_depth(np.asarray(d["depthgen"]), lo, hi)]
        if with_regression:
            panels.append(colorize_depth(scaled(d["regression"]), lo, hi))
        panels.append(colorize_depth(scaled(d["ramp"]), lo, hi))
        for c, img in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(img[::4, ::4])
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(cols[c], fontsize=8)
        axes[r, 0].set_ylabel(f"frame #{i}\n{lo:.1f}-{hi:.1f} m", fontsize=7)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------------------ run
@cli_main(build_parser)
def main(args: argparse.Namespace) -> int:
    data = real_data_dir(args.data)
    if args.samples < 1 or args.stride < 1 or args.sheet < 0 or not args.ramp_ratio > 0:
        raise ValueError("--samples and --stride must be >= 1, --sheet >= 0 and --ramp-ratio > 0")
    ds = FolderDataset(data)
    if args.frames:
        ds = select_frames(ds, args.frames, str(data))
    indices = list(range(0, len(ds), args.stride))
    samples, steps = args.samples, args.steps
    if args.quick:
        indices, samples, steps = indices[:2], 2, 2
    report = new_report(NAME, args, args.device)
    pipe = load_depth_pipeline(args.model, args.device)
    predictors: dict[str, Any] = {"depthgen": pipeline_predict_fn(pipe, steps)}
    if args.regression != "none":
        reg = load_depth_pipeline(args.regression, args.device)
        if reg.config.objective != "regression":
            raise ValueError(f"{args.regression} is a {reg.config.objective} model, not a regression baseline")
        predictors["regression"] = pipeline_predict_fn(reg)
    wrap = {name: median_of(fn, samples if name == "depthgen" else 1) for name, fn in predictors.items()}
    wrap["ramp"] = lambda rgb, k, g, K=None: ramp_depth(rgb.shape[:2], args.ramp_ratio)
    wrap["constant"] = lambda rgb, k, g, K=None: np.ones(rgb.shape[:2], np.float32)
    n_sheet = min(args.sheet, len(indices))
    sheet_at = {indices[int(round(t))] for t in np.linspace(0, len(indices) - 1, n_sheet)} if n_sheet else set()
    cache = None if args.no_cache else cache_path(args, samples, steps)
    rows, gts, sheet = frame_rows(ds, indices, wrap, args.seed, samples, sheet_at, cache, args.camera == "known")
    summary = summarise(rows, best_constant(gts), gts)
    csv_name = f"bench_{NAME}_frames.csv"
    write_text(Path(args.out_dir) / csv_name, frames_csv(rows))

    report["results"] = {
        "data": str(data), "frames": len(rows), "frames_total": len(ds), "frames_selected": args.frames,
        "stride": args.stride, "samples": samples,
        "steps_used": steps or call_default(pipe, "num_inference_steps"), "ramp_ratio": args.ramp_ratio,
        "camera": args.camera,
        "summary": summary, "targets": targets(summary), "csv": csv_name, "frames_rows": rows,
        "cache": None if cache is None else str(cache), "frames_reused": sum(bool(r.get("cached")) for r in rows),
        "frames_timed": sum(not r.get("cached") for r in rows),
        "seconds_per_frame": {k: (float(np.mean(t)) if (t := [r["seconds"][k] for r in rows if not r.get("cached")])
                                  else None) for k in predictors}}
    figs = {"": summary_figure(report)}
    if sheet:
        figs["sheet"] = contact_sheet(sheet)
    write_outputs(report, args.out_dir, TITLE, markdown, figs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
