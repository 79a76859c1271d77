"""Uncertainty: does DepthGen's per-pixel spread over samples predict its error?

    python -m bench.uncertainty [--model assets/depthgen] [--samples 8] [--steps 20] [--n 30] [--size 320x240]
        [--indoor SPEC] [--outdoor SPEC] [--quick]

Per image: k samples, the median as the prediction, the std over samples (``out.uncertainty``) as the
uncertainty, and the absolute error |median - gt| on the pixels the kind's protocol scores. Reported:
- Spearman rank correlation (scipy) between std and absolute error, per image (mean over images) and pooled
  over the pixels of all images (a seeded subsample of at most 200,000);
- sparsification: remove the most uncertain pixels first and track the mean absolute error of the rest,
  against the oracle that removes the largest errors first; curves normalised by the error of all pixels
  and averaged over images; AUSE = area between the two curves (0 is ideal), AURG = area between random
  removal (flat at 1) and the model's curve (> 0: better than random).
Writes docs/bench_uncertainty.{md,json,png}.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from bench.common import (ASSETS, add_data_args, base_parser, cli_main, eval_sets, figure_lines, fmt, generator,
                          load_depth_pipeline, md_table, new_report, pyplot, sampling_budget, scored_protocol,
                          write_outputs)
from depthgen.evaluation.metrics import eval_mask

NAME = "uncertainty"
TITLE = "Uncertainty: does the spread over samples predict the error?"
FRACTIONS = np.round(np.arange(0.0, 1.0, 0.02), 2)  # fractions of pixels removed
POOL_MAX = 200_000
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz


def build_parser():
    p = base_parser(f"python -m bench.{NAME}", __doc__.split("\n")[0])
    p.add_argument("--model", default=str(ASSETS / "depthgen"), help="DepthGen pipeline folder")
    p.add_argument("--samples", type=int, default=8, help="samples per image (default 8)")
    p.add_argument("--steps", type=int, default=20, help="denoising steps (default 20)")
    add_data_args(p, n=30)
    return p


def sparsification(error: np.ndarray, order_key: np.ndarray, fractions: np.ndarray = FRACTIONS) -> np.ndarray:
    """Mean of ``error`` (n,) over the pixels left after removing the fraction f with the largest
    ``order_key`` first, for each f in ``fractions`` (len(fractions),). At least one pixel is always kept."""
    error = np.asarray(error, np.float64).ravel()
    n = error.size
    if n == 0:
        return np.full(len(fractions), np.nan)
    order = np.argsort(-np.asarray(order_key, np.float64).ravel(), kind="stable")  # most uncertain first
    kept_sums = np.cumsum(error[order][::-1])[::-1]  # kept_sums[r] = sum of error after removing r pixels
    removed = np.minimum((np.asarray(fractions) * n).astype(np.int64), n - 1)
    return kept_sums[removed] / (n - removed)


def ause(model_curve: np.ndarray, oracle_curve: np.ndarray, fractions: np.ndarray = FRACTIONS) -> float:
    """Area between the model's and the oracle's sparsification curves (trapezoid rule over ``fractions``)."""
    return float(_trapezoid(np.asarray(model_curve) - np.asarray(oracle_curve), fractions))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho (NaN when either input is constant or has fewer than 3 values)."""
    from scipy.stats import spearmanr

    a, b = np.ravel(a), np.ravel(b)
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def evaluate_kind(pipe: Any, entry: dict, samples: int, steps: int, seed: int) -> dict:
    data, proto = entry["data"], scored_protocol(entry["data"], entry["protocol"])
    rhos, model_curves, oracle_curves = [], [], []
    pooled_std, pooled_err = [], []
    rng = np.random.default_rng([seed, 7])
    empty = 0
    for i in range(entry["n"]):
        item = data[i]
        gt = np.asarray(item["depth"], np.float32)
        mask = eval_mask(gt, item.get("valid"), proto)
        if mask.sum() < 3:
            empty += 1
            continue
        out = pipe(np.asarray(item["rgb"]), num_samples=samples, num_inference_steps=steps,
                   generator=generator(seed, i, 0))
        err = np.abs(out.depth[mask].astype(np.float64) - gt[mask])
        std = out.uncertainty[mask].astype(np.float64)
        rhos.append(spearman(std, err))
        full = err.mean()
        if full > 0:
            model_curves.append(sparsification(err, std) / full)
            oracle_curves.append(sparsification(err, err) / full)
        pooled_std.append(std)
        pooled_err.append(err)
    res: dict[str, Any] = {"spec": entry["spec"], "protocol": proto.to_dict(), "num_images": len(rhos),
                           "num_empty": empty}
    if not rhos:
        return {"result": res, "scatter": None}
    std_all, err_all = np.concatenate(pooled_std), np.concatenate(pooled_err)
    if std_all.size > POOL_MAX:
        pick = rng.choice(std_all.size, POOL_MAX, replace=False)
        std_all, err_all = std_all[pick], err_all[pick]
    finite = [r for r in rhos if np.isfinite(r)]
    res.update({"spearman_per_image_mean": float(np.mean(finite)) if finite else None,
                "spearman_per_image_images": len(finite),
                "spearman_pooled": spearman(std_all, err_all), "pooled_pixels": int(std_all.size),
                "mean_abs_error_m": float(err_all.mean()), "mean_std_m": float(std_all.mean())})
    if model_curves:
        m, o = np.mean(model_curves, axis=0), np.mean(oracle_curves, axis=0)
        res.update({"fractions": FRACTIONS, "model_curve": m, "oracle_curve": o, "ause": ause(m, o),
                    "aurg": float(_trapezoid(np.ones_like(m) - m, FRACTIONS))})
    return {"result": res, "scatter": (std_all, err_all)}


def markdown(report: dict) -> str:
    res, s = report["results"], report["settings"]
    lines = [f"Model `{s['model']}`, {res['samples']} samples and {res['steps']} DDIM steps per image. Error: "
             "|median of samples - ground truth| (m) on the pixels the kind's protocol scores; uncertainty: "
             "per-pixel std over samples (m). Sparsification curves are normalised by each image's error on "
             "all pixels, then averaged; AUSE: area between the uncertainty-ordered curve and the oracle "
             "(0 is ideal); AURG: area between random removal and the uncertainty-ordered curve (> 0 beats random)."]
    head = ["set", "images", "Spearman per image (mean)", "Spearman pooled", "AUSE ↓", "AURG ↑",
            "mean abs error (m)", "mean std (m)"]
    rows = [[f"{k} (`{r['spec']}`)", r["num_images"], fmt(r.get("spearman_per_image_mean")),
             fmt(r.get("spearman_pooled")), fmt(r.get("ause")), fmt(r.get("aurg")), fmt(r.get("mean_abs_error_m")),
             fmt(r.get("mean_std_m"))] for k, r in res["kinds"].items()]
    lines += ["", md_table(head, rows)]
    lines += figure_lines(report)
    return "\n".join(lines)


def figure(report: dict, scatters: dict[str, Any]):
    plt = pyplot()
    kinds = list(report["results"]["kinds"])
    fig, axes = plt.subplots(2, len(kinds), figsize=(4.3 * len(kinds), 7), squeeze=False)
    for j, kind in enumerate(kinds):
        r = report["results"]["kinds"][kind]
        ax = axes[0, j]
        if r.get("model_curve") is not None:
            f = 100 * np.asarray(r["fractions"])
            ax.plot(f, r["model_curve"], label=f"remove most uncertain (AUSE {r['ause']:.3f})")
            ax.plot(f, r["oracle_curve"], "--", label="oracle: remove largest errors")
            ax.axhline(1.0, color="grey", lw=0.8, ls=":", label="random removal (expected)")
            ax.legend(fontsize=7)
        ax.set_xlabel("pixels removed (%)")
        ax.set_ylabel("mean |error| of the rest / all pixels")
        ax.set_title(f"{kind}: sparsification ({r['num_images']} images)")
        ax.grid(alpha=0.3)
        ax = axes[1, j]
        sc = scatters.get(kind)
        if sc is not None:
            std, err = sc
            pos = (std > 0) & (err > 0)
            if pos.sum() > 1:
                ax.hexbin(std[pos], err[pos], xscale="log", yscale="log", gridsize=40, bins="log", mincnt=1)
        ax.set_xlabel("std over samples (m)")
        ax.set_ylabel("|error| (m)")
        rho = r.get("spearman_pooled")
        ax.set_title(f"{kind}: pixels (Spearman {rho:.2f})" if rho is not None and np.isfinite(rho) else kind)
    fig.tight_layout()
    return fig


@cli_main(build_parser)
def main(args: argparse.Namespace) -> int:
    samples, steps = sampling_budget(args, quick=(3, 2), min_samples=2, why=" (a spread needs two samples)")
    sets = eval_sets(args)
    report = new_report(NAME, args, args.device)
    pipe = load_depth_pipeline(args.model, args.device)
    res: dict[str, Any] = {"samples": samples, "steps": steps, "kinds": {}}
    scatters = {}
    for kind, entry in sets.items():
        out = evaluate_kind(pipe, entry, samples, steps, args.seed)
        res["kinds"][kind], scatters[kind] = out["result"], out["scatter"]
    report["results"] = res
    write_outputs(report, args.out_dir, TITLE, markdown, {"": figure(report, scatters)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
