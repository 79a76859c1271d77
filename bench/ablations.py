"""The paper's ablations at small scale with equal budgets: L1 vs L2 on noisy depth, infilling on/off,
step-unrolled denoising (SUD) on/off, self-supervised pretraining on/off.

    python -m bench.ablations [--config configs/depthgen/finetune.yaml] [--steps 1000] [--set key=value ...]
        [--variants baseline l2 no_infill no_sud no_pretrain] [--runs-dir runs/ablations] [--resume | --reuse]
        [--eval-samples 4] [--eval-steps 10] [--n 20] [--size 320x240] [--indoor SPEC] [--outdoor SPEC] [--quick]

Every variant is the same recipe (``--config`` plus the common ``--set`` overrides) with one change, trained
for the same number of steps (``train.max_steps`` = ``--steps``, so the learning-rate schedule is the same
length) by ``depthgen.train.main`` (in this process), exported as a pipeline, then evaluated identically with
``depthgen.evaluation.evaluate.evaluate_model`` (same images, same seeds) on the indoor (NYU protocol) and outdoor
(KITTI metric set) procedural test sets. A variant whose change does nothing in the given recipe (e.g.
``no_sud`` when ``diffusion.sud_prob`` is already 0) is refused. Writes docs/bench_ablations.{md,json,png}.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bench.common import (ROOT, add_data_args, base_parser, cli_main, eval_sets, figure_lines, fmt, fmt_seconds,
                          load_depth_pipeline, md_table, new_report, pyplot, scored_protocol, write_outputs)
from depthgen.common.config import load_config
from depthgen.evaluation.evaluate import evaluate_model
from depthgen.train import main as train_main
from depthgen.training.recipe import Recipe

NAME = "ablations"
TITLE = "Ablations at small scale (equal training budgets)"
# variant -> (overrides, what it changes)
VARIANTS: dict[str, tuple[tuple[str, ...], str]] = {
    "baseline": ((), "the recipe as given"),
    "l2": (("diffusion.loss=l2",), "L2 instead of L1 loss"),
    "no_infill": (("diffusion.infill=false",), "no depth infilling before noising"),
    "no_sud": (("diffusion.sud_prob=0",), "no step-unrolled denoising"),
    "no_pretrain": (("train.init_from=null",), "no self-supervised pretraining (random init)"),
}
METRICS = ("delta1", "abs_rel", "rmse")


def build_parser():
    p = base_parser(f"python -m bench.{NAME}", __doc__.split("\n")[0])
    p.add_argument("--config", default=str(ROOT / "configs" / "depthgen" / "finetune.yaml"), help="recipe YAML")
    p.add_argument("--steps", type=int, default=1000, help="training steps of every variant (default 1000)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override applied to every variant (repeatable), e.g. --set train.warmup_steps=50")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), help="variants to run")
    p.add_argument("--runs-dir", default=str(ROOT / "runs" / "ablations"), help="one training folder per variant")
    p.add_argument("--resume", action="store_true", help="continue interrupted training runs")
    p.add_argument("--reuse", action="store_true", help="skip training where a variant's pipeline was exported")
    p.add_argument("--eval-samples", type=int, default=4, help="samples per image at evaluation (default 4)")
    p.add_argument("--eval-steps", type=int, default=10, help="denoising steps at evaluation (default 10)")
    add_data_args(p, n=20)
    return p


def variant_overrides(common: Sequence[str], variant: str, out: Path, steps: int) -> list[str]:
    """Recipe overrides of one variant: the common ones, the variant's change, its folder and the budget
    (the export goes to ``<out>/pipeline`` whatever the recipe says, so variants never share a folder)."""
    return [*common, *VARIANTS[variant][0], f"train.output_dir={out}", f"train.max_steps={steps}",
            "train.export_dir=null"]


def resolve_recipes(config: str, common: Sequence[str], variants: Sequence[str], runs_dir: Path,
                    steps: int) -> dict[str, Any]:
    """The recipe of every variant (validates every override before any training); a variant identical to
    the baseline recipe raises ValueError."""
    def load(v: str) -> Recipe:
        return load_config(Recipe, config, variant_overrides(common, v, runs_dir / v, steps))

    base = load("baseline")
    if base.stage != "finetune":
        raise ValueError(f"the ablations train depth models: the recipe's stage is {base.stage!r}; use a "
                         "finetune recipe or --set stage=finetune")
    recipes = {}
    for v in variants:
        r = load(v)
        same = dataclasses.replace(r, train=dataclasses.replace(r.train, output_dir=base.train.output_dir)) == base
        if v != "baseline" and same:
            raise ValueError(f"variant {v} ({VARIANTS[v][1]}) changes nothing in this recipe; "
                             f"adjust the recipe or leave {v} out of --variants")
        recipes[v] = r
    return recipes


def read_log(path: Path) -> list[tuple[int, float]]:
    """(step, loss) rows of a training run's log.csv."""
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [(int(r["step"]), float(r["loss"])) for r in csv.DictReader(f)]


def train_variant(v: str, args: Any, runs_dir: Path) -> dict:
    """Train (or reuse) one variant; returns its folder, wall time and loss log summary."""
    out = runs_dir / v
    pipe_dir = out / "pipeline"
    reused = args.reuse and (pipe_dir / "model_index.json").is_file()
    seconds = None
    if not reused:
        argv = ["--config", args.config, *variant_overrides(args.overrides, v, out, args.steps), "--no-progress",
                *(["--resume"] if args.resume else [])]
        t0 = time.perf_counter()
        code = train_main(argv)
        seconds = time.perf_counter() - t0
        if code != 0:
            raise RuntimeError(f"training variant {v} failed with exit code {code} (folder {out})")
    if not (pipe_dir / "model_index.json").is_file():
        raise RuntimeError(f"variant {v} exported no pipeline at {pipe_dir}")
    log = read_log(out / "log.csv")
    tail = [loss for _, loss in log[-max(1, len(log) // 10):]]
    return {"dir": str(out), "pipeline": str(pipe_dir), "reused": reused, "train_seconds": seconds,
            "steps_logged": len(log), "final_loss": float(np.mean(tail)) if tail else None, "loss_log": log}


def evaluate_variant(pipe_dir: str, sets: dict, samples: list[int], steps: int, seed: int, device: str) -> dict:
    pipe = load_depth_pipeline(pipe_dir, device)
    out = {}
    for kind, e in sets.items():
        r = evaluate_model(pipe, e["data"], scored_protocol(e["data"], e["protocol"]), samples=samples, steps=steps,
                           limit=e["n"], seed=seed, metrics=METRICS)
        out[kind] = {"metrics": r["metrics"], "num_images": r["num_images"], "seconds_per_image": r["seconds_per_image"]}
    return out


def markdown(report: dict) -> str:
    res = report["results"]
    k = str(max(res["samples"]))
    lines = [f"Recipe `{res['config']}` with {', '.join(f'`{o}`' for o in res['common_overrides']) or 'no overrides'}; "
             f"every variant trained {res['steps']} steps (batch {res['batch_size']}, same schedule), EMA weights "
             f"exported, evaluated with {max(res['samples'])} samples (median) and {res['eval_steps']} DDIM steps on "
             f"the same images and seeds. Final loss: mean of the last 10% of logged steps (L1 and L2 losses are "
             "not comparable with each other)."]
    rc = res.get("recipe", {})
    if rc:
        lines += ["", f"Baseline recipe: loss {rc['loss']}, infilling {'on' if rc['infill'] else 'off'}, SUD probability "
                  f"{rc['sud_prob']}, initialised from `{rc['init_from']}`, lr {rc['lr']} ({rc['warmup_steps']} warm-up "
                  f"steps), data `{rc['data']}`, depth target `{rc['target']}`."]
    kinds = list(next(iter(res["variants"].values()))["eval"])
    head = ["variant", "change", "train time", "final loss"] + [
        f"{kd} {n}" for kd in kinds for n in ("δ1 ↑", "REL ↓", "RMS ↓")]
    rows = []
    for v, r in res["variants"].items():
        t = "reused" if r["reused"] else fmt_seconds(r["train_seconds"])
        rows.append([f"`{v}`", VARIANTS[v][1], t, fmt(r["final_loss"], 4)] +
                    [fmt(r["eval"][kd]["metrics"][k].get(m)) for kd in kinds for m in METRICS])
    lines += ["", f"Metrics with {k} samples; images per set: "
              + ", ".join(f"{kd} {next(iter(res['variants'].values()))['eval'][kd]['num_images']}" for kd in kinds)
              + ".", "", md_table(head, rows, numeric_from=2)]
    lines += figure_lines(report)
    return "\n".join(lines)


def figure(report: dict):
    plt = pyplot()
    res = report["results"]
    k = str(max(res["samples"]))
    names = list(res["variants"])
    kinds = list(res["variants"][names[0]]["eval"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    width = 0.8 / len(kinds)
    for i, kd in enumerate(kinds):
        vals = [res["variants"][v]["eval"][kd]["metrics"][k].get("abs_rel") for v in names]
        axes[0].bar(np.arange(len(names)) + (i - (len(kinds) - 1) / 2) * width,
                    [np.nan if x is None else x for x in vals], width, label=kd)
    axes[0].set_xticks(range(len(names)), names, rotation=20)
    axes[0].set_ylabel(f"REL, {k} samples (lower is better)")
    axes[0].legend(fontsize=8)
    axes[0].grid(axis="y", alpha=0.3)
    for v in names:
        log = res["variants"][v]["loss_log"]
        if log:
            axes[1].plot([s for s, _ in log], [x for _, x in log], label=v, lw=0.8)
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("training loss (L1 / L2)")
    axes[1].set_yscale("log")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


@cli_main(build_parser)
def main(args: argparse.Namespace) -> int:
    if args.quick:
        args.steps, args.eval_samples, args.eval_steps = 2, 2, 2
    if args.steps < 1 or args.eval_samples < 1 or args.eval_steps < 1:
        raise ValueError("--steps, --eval-samples and --eval-steps must be >= 1")
    if "baseline" not in args.variants:
        args.variants = ["baseline", *args.variants]
    runs_dir = Path(args.runs_dir)
    recipes = resolve_recipes(args.config, args.overrides, args.variants, runs_dir, args.steps)
    sets = eval_sets(args, quick_n=1)
    report = new_report(NAME, args, args.device)
    samples = sorted({1, args.eval_samples})
    base = recipes["baseline"]
    res: dict[str, Any] = {"config": args.config, "common_overrides": list(args.overrides), "steps": args.steps,
                           "batch_size": base.train.batch_size, "samples": samples, "eval_steps": args.eval_steps,
                           "recipe": {"loss": base.diffusion.loss, "infill": base.diffusion.infill,
                                      "sud_prob": base.diffusion.sud_prob, "init_from": base.train.init_from,
                                      "lr": base.train.lr, "warmup_steps": base.train.warmup_steps,
                                      "data": f"{base.data.kind}:{base.data.path}", "target": base.data.target},
                           "variants": {}}
    for v in args.variants:
        r = train_variant(v, args, runs_dir)
        r["eval"] = evaluate_variant(r["pipeline"], sets, samples, args.eval_steps, args.seed, args.device)
        res["variants"][v] = r
        print(f"{v}: trained in {fmt_seconds(r['train_seconds'])}, final loss {fmt(r['final_loss'], 4)}")
    report["results"] = res
    write_outputs(report, args.out_dir, TITLE, markdown, {"": figure(report)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
