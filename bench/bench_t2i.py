"""Prompt alignment and diversity of the embedded text-to-image model -> docs/t2i_eval.{md,json}, docs/t2i_grid.png.

    python -m bench.bench_t2i [--pipeline assets/t2i] [--prompts configs/models/t2i/eval_prompts.yaml] [--seeds 8]
                              [--steps 25] [--guidance G] [--layout-strength S] [--classifier runs/t2i-classifier]
                              [--renders N] [--epochs N] [--width N] [--compare-size 64]

1. A scene-type classifier (text3d.models.t2i.classifier) is trained on ``--renders`` procedural renders of the test
   split (never on generated images) and cached in ``--classifier``; its held-out accuracy is reported. The
   cached one is reused unless a ``--renders`` / ``--epochs`` / ``--width`` given differs from how it was
   trained.
2. Every prompt (phrased unlike the training captions) is sampled with seeds 0..seeds-1.
3. Alignment: the fraction of images the classifier labels with the prompted scene type (target >= 0.8).
   Diversity: mean pairwise pixel distance within a prompt vs between prompts (text3d.models.t2i.evaluate).
4. Realism from pure noise (``--no-realism`` skips it): a classifier two-sample test between the images sampled from
   noise and as many true test-split renders of the prompted scene types (held-out accuracy; 0.5 = the two sets
   cannot be told apart, target <= 0.75), and the prompt sensitivity over the indoor prompts (distance between
   prompts at one seed over distance between seeds of one prompt; target >= 1.0), for the generated images and for
   the true renders (``text3d.models.t2i.realism``).
5. A grid of every prompt x the first 4 seeds.

The pipeline is measured as it samples by default (its saved ``layout_strength``, or ``--layout-strength``).
When that starts from retrieved layouts (< 1), the same prompts and seeds are also sampled from pure noise
(strength 1), so the report shows what the UNet does alone and what retrieval adds (``plain`` in the JSON,
``docs/t2i_grid_plain.png``).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from depthgen.data.procedural.outdoor import OUTDOOR_TYPES
from depthgen.common.io import atomic_path, write_json, write_text
from text3d.models.t2i import classifier as t2i_classifier
from text3d.models.t2i import realism
from text3d.models.t2i.evaluate import PromptSpec, evaluate, image_grid
from text3d.models.t2i.pipeline import TextToImagePipeline

ROOT = Path(__file__).resolve().parents[1]


def load_prompts(path: str | Path):
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"prompt file not found: {p}")
    data = yaml.safe_load(p.read_text()) or {}
    items = data.get("prompts") if isinstance(data, dict) else None
    if not items or not all(isinstance(i, dict) and {"prompt", "scene_type"} <= set(i) for i in items):
        raise ValueError(f"{p} must hold 'prompts:' as a list of {{prompt, scene_type}} mappings")
    return [PromptSpec(str(i["prompt"]), str(i["scene_type"])) for i in items]


CLASSIFIER_DEFAULTS = {"renders": 8000, "epochs": 20, "width": 32, "pitch_offsets": [0.0]}


def get_classifier(path: Path, size: int, **asked):
    """The scene classifier saved in ``path`` if it was trained with every setting in ``asked`` that is not
    None (renders, epochs, width, pitch_offsets: camera tilts in degrees, cycled over the renders); else one
    trained on that many procedural test renders (missing settings take ``CLASSIFIER_DEFAULTS``) and saved
    there."""
    asked = {k: v for k, v in asked.items() if v is not None}
    if (path / "classifier.json").is_file():
        cached = t2i_classifier.TrainedClassifier.load(path)
        differ = {k: v for k, v in asked.items() if cached.recipe.get(k) != v}
        if not differ:
            return cached
        print(f"classifier: {path} was trained with " + ", ".join(f"{k}={cached.recipe.get(k)}" for k in differ)
              + "; retraining with " + ", ".join(f"{k}={v}" for k, v in differ.items()), file=sys.stderr)
    opts = {**CLASSIFIER_DEFAULTS, **asked}
    t0 = time.perf_counter()
    images, labels, failed = t2i_classifier.procedural_renders(opts["renders"], "test", size=size, progress=True,
                                                               pitch_offsets_deg=opts["pitch_offsets"])
    if failed:
        print(f"classifier: the procedural generator failed on test indices {failed}; left out", file=sys.stderr)
    t1 = time.perf_counter()
    clf = t2i_classifier.train_classifier(images, labels, epochs=opts["epochs"], width=opts["width"], progress=True)
    clf.recipe["renders"] = opts["renders"]  # asked for (the generator may have failed on a few of them)
    clf.recipe["pitch_offsets"] = [float(p) for p in opts["pitch_offsets"]]
    print(f"classifier: {opts['renders']} renders in {t1 - t0:.0f} s, trained in {time.perf_counter() - t1:.0f} s, "
          f"held-out accuracy {clf.val_accuracy:.3f}", file=sys.stderr)
    clf.save(path)
    return clf


def _renders(report: dict) -> str:
    """'8000 ' when the report knows how many renders trained the classifier, else ''."""
    recipe = report.get("classifier_recipe") or {}
    n, epochs = recipe.get("renders"), recipe.get("epochs")
    return f"{n} " + (f"({epochs} epochs) " if epochs else "") if n else ""


def realism_report(specs: list, seeds: list[int], noise_images, draws: int = 3,
                   size: int = realism.COMPARE_SIZE) -> dict:
    """Two-sample test and prompt sensitivity of images sampled from pure noise (prompt-major, ``seeds`` per
    prompt), each against true test-split renders of the prompted scene types, all compared at ``size`` px."""
    types = [s.scene_type for s in specs]
    k = len(seeds)
    per_type = max(collections.Counter(types).values()) * k
    renders, render_types = realism.true_renders(types, per_type, size=size)
    pool = {t: [im for im, rt in zip(renders, render_types) if rt == t] for t in set(types)}
    taken = collections.Counter()
    real = []
    for t in types:  # the next k renders of each prompt's scene type
        real += pool[t][taken[t]:taken[t] + k]
        taken[t] += k
    c2st = realism.two_sample_accuracy(np.asarray(noise_images), np.stack(real), draws=draws, size=size)
    indoor = [i for i, t in enumerate(types) if t not in OUTDOOR_TYPES]
    rows = [i * k + j for i in indoor for j in range(k)]
    generated = realism.prompt_sensitivity(np.asarray(noise_images)[rows], [i for i in indoor for _ in range(k)],
                                           [j for _ in indoor for j in range(k)], size=size)
    indoor_types = list(dict.fromkeys(types[i] for i in indoor))
    true_rows = [im for t in indoor_types for im in pool[t][:k]]
    true = realism.prompt_sensitivity(np.stack(true_rows), [i for i in range(len(indoor_types)) for _ in range(k)],
                                      [j for _ in indoor_types for j in range(k)], size=size)
    return {"two_sample_accuracy": c2st["accuracy"], "two_sample_per_draw": c2st["per_draw"],
            "two_sample_images": c2st["n_generated"], "compare_size": c2st["size"],
            "prompt_sensitivity": generated, "prompt_sensitivity_true_renders": true,
            "indoor_prompts": len(indoor)}


def write_markdown(report: dict, path: Path) -> None:
    d, plain = report["diversity"], report.get("plain")
    setup = (f"{report['n_prompts']} prompts phrased unlike the training captions x {len(report['seeds'])} seeds, "
             f"{report['steps']} {report['scheduler'].upper()} steps, guidance {report['guidance_scale']}")
    if plain is not None:
        setup += (f", starting from retrieved layouts at strength {report['layout_strength']} (the last part of "
                  f"the schedule is run from a noised {report.get('layout_size')}-pixel training layout whose "
                  "captions are nearest the prompt; `text3d/models/t2i/layout_bank.py`)")
    lines = [
        "# Embedded text-to-image model: prompt alignment and diversity",
        "",
        f"Measured by `python -m bench.bench_t2i` on {report['date']} ({report['device']}); pipeline `{report['pipeline']}`.",
        setup + ".",
        "",
        f"- **Alignment** (classifier's top class = prompted scene type): **{report['alignment']:.1%}** (target >= 80%); "
        f"prompted type among the classifier's top 3: {report['alignment_top3']:.1%}",
        f"- Scene classifier: trained on {_renders(report)}procedural test-split renders; held-out accuracy "
        f"{report['classifier_val_accuracy']:.1%}" if report.get("classifier_val_accuracy") is not None
        else "- Scene classifier: held-out accuracy not recorded",
        f"- **Diversity** (mean absolute pixel difference, [0, 1]): within a prompt {d['within']:.4f}, "
        f"between prompts {d['between']:.4f}",
        f"- Sampling time: {report['seconds_per_image']:.2f} s per image",
    ]
    r = report.get("realism")
    if r is not None:
        lines += [
            f"- **Realism from pure noise**: a classifier tells the {r['two_sample_images']} images sampled from "
            f"noise from as many true test renders of the prompted scene types with held-out accuracy "
            f"**{r['two_sample_accuracy']:.3f}** (0.5 = indistinguishable; target <= 0.75; mean of "
            f"{len(r['two_sample_per_draw'])} hold-outs, images compared at {r['compare_size']} px)",
            f"- **Prompt sensitivity from pure noise** ({r['indoor_prompts']} indoor prompts): "
            f"**{r['prompt_sensitivity']:.2f}** (target >= 1.0; true renders grouped by scene type: "
            f"{r['prompt_sensitivity_true_renders']:.2f})",
        ]
    if "layout_alignment" in report:
        lines.append(f"- Retrieval alone: the starting layout came from a scene of the prompted type in "
                     f"{report['layout_alignment']:.1%} of images")
    if plain is not None:
        pd = plain["diversity"]
        lines += [
            f"- **The UNet alone** (the same prompts and seeds from pure noise, strength 1): alignment "
            f"**{plain['alignment']:.1%}**, top 3 {plain['alignment_top3']:.1%}; diversity within {pd['within']:.4f}, "
            f"between {pd['between']:.4f}; {plain['seconds_per_image']:.2f} s per image "
            "([grid](t2i_grid_plain.png))",
        ]
    lines += [
        "",
        "| prompt | scene type | aligned | classifier labels |",
        "|---|---|---|---|",
    ]
    for p in report["per_prompt"]:
        labels = ", ".join(f"{k} {v}" for k, v in p["predicted"].items())
        lines.append(f"| {p['prompt']} | {p['scene_type']} | {p['aligned']:.0%} | {labels} |")
    lines += ["", "![grid](t2i_grid.png)", ""]
    write_text(path, "\n".join(lines))


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pipeline", default=str(ROOT / "assets" / "t2i"))
    ap.add_argument("--prompts", default=str(ROOT / "configs" / "models" / "t2i" / "eval_prompts.yaml"))
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--guidance", type=float, default=None,
                    help="classifier-free guidance (default: the one saved with the pipeline)")
    ap.add_argument("--scheduler", default="ddim", choices=["ddim", "dpm"])
    ap.add_argument("--classifier", default=str(ROOT / "runs" / "t2i-classifier"),
                    help="saved classifier folder; trained on procedural renders and saved here if missing")
    ap.add_argument("--renders", type=int, default=None,
                    help="procedural test renders to train the classifier on (default: the saved classifier's, "
                         f"or {CLASSIFIER_DEFAULTS['renders']}); a different value retrains it")
    ap.add_argument("--epochs", type=int, default=None,
                    help=f"classifier training epochs (default: as saved, or {CLASSIFIER_DEFAULTS['epochs']})")
    ap.add_argument("--width", type=int, default=None, help="classifier width, channels of its first stage "
                                                            f"(default: as saved, or {CLASSIFIER_DEFAULTS['width']})")
    ap.add_argument("--layout-strength", type=float, default=None,
                    help="start from retrieved layouts at this strength (default: the pipeline's saved value)")
    ap.add_argument("--no-plain", action="store_true", help="skip the pure-noise comparison run (quick sweeps)")
    ap.add_argument("--compare-size", type=int, default=realism.COMPARE_SIZE,
                    help="pixels at which the two-sample test and prompt sensitivity compare images (default 64, "
                         "the pixel model's size; 256 judges a latent model's views as a user sees them)")
    ap.add_argument("--no-realism", action="store_true", help="skip the two-sample test and prompt sensitivity")
    ap.add_argument("--grid-seeds", type=int, default=4)
    ap.add_argument("--out", default=str(ROOT / "docs"))
    return ap


def write_grids(out: Path, specs: list, grids: dict[str, list | None], seeds: int, k: int) -> None:
    """``out/<name>`` image grids: per prompt (a row) its first ``k`` of ``seeds`` images; None skips a grid."""
    for name, imgs in grids.items():
        if imgs is None:
            continue
        rows = [list(imgs[i * seeds:i * seeds + k]) for i in range(len(specs))]
        with atomic_path(out / name) as tmp:
            Image.fromarray(image_grid(rows, [s.prompt for s in specs])).save(tmp)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.seeds < 2:
            raise ValueError("--seeds must be >= 2 (diversity within a prompt needs two images)")
        specs = load_prompts(args.prompts)
        pipe = TextToImagePipeline.from_pretrained(args.pipeline)
        size = int(pipe.unet.config.sample_size)
        clf = get_classifier(Path(args.classifier), size, renders=args.renders, epochs=args.epochs, width=args.width)
        seeds = list(range(args.seeds))
        t0 = time.perf_counter()
        report, images = evaluate(pipe, clf, specs, seeds, args.steps, args.guidance, args.scheduler,
                                  args.layout_strength)
        report["seconds_per_image"] = (time.perf_counter() - t0) / len(images)
        plain_images = None
        if report["layout_strength"] < 1 and not args.no_plain:
            t0 = time.perf_counter()
            plain, plain_images = evaluate(pipe, clf, specs, seeds, args.steps, args.guidance, args.scheduler, 1.0)
            plain["seconds_per_image"] = (time.perf_counter() - t0) / len(plain_images)
            report["plain"] = {k: plain[k] for k in ("alignment", "alignment_top3", "diversity", "per_prompt",
                                                      "seconds_per_image")}
        noise_images = images if report["layout_strength"] >= 1 else plain_images
        if not args.no_realism and noise_images is not None:
            report["realism"] = realism_report(specs, seeds, noise_images, size=args.compare_size)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    report.update(pipeline=str(args.pipeline), classifier_val_accuracy=clf.val_accuracy, classifier_recipe=clf.recipe,
                  classifier_classes=clf.classes, date=time.strftime("%Y-%m-%d"),
                  device=f"CPU, {torch.get_num_threads()} threads")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_grids(out, specs, {"t2i_grid.png": images, "t2i_grid_plain.png": plain_images}, args.seeds,
                min(args.grid_seeds, args.seeds))
    write_json(out / "t2i_eval.json", report, indent=1)
    write_markdown(report, out / "t2i_eval.md")
    d = report["diversity"]
    print(f"alignment {report['alignment']:.3f}; diversity within {d['within']:.4f} / between {d['between']:.4f}; "
          f"wrote {out / 't2i_eval.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
