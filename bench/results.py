"""Gather every benchmark's JSON into docs/RESULTS.md.

    python -m bench.results [--docs docs] [--out docs/RESULTS.md]

Each section is re-rendered from ``<docs>/bench_<name>.json`` by that benchmark's own ``markdown`` function,
with when, where (machine) and how long it took. A benchmark without a JSON file gets a section that says it
has not been run and gives the command. Other owners' benchmarks (``python -m bench.bench_t2i``,
``python -m bench.bench_procedural``) are linked, not re-rendered.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path

from bench.common import DOCS, cli_main, fmt_seconds, make_parser, md_table, report_header, write_text

# name -> (command for the shipped models, what it measures)
SECTIONS: dict[str, tuple[str, str]] = {
    "depth_accuracy": ("python -m bench.depth_accuracy", "δ1/δ2/δ3, REL, RMS, log10 for 1-8 samples vs regression"),
    "ablations": ("python -m bench.ablations", "L1/L2, infilling, SUD, pretraining at equal budgets"),
    "completion": ("python -m bench.completion", "filling disocclusion holes: imputation vs alignment vs nearest"),
    "inpainting": ("python -m bench.inpainting", "RGB fill of disocclusion holes: the embedded model vs OpenCV, PSNR/MAE"),
    "reconstruction": ("python -m bench.reconstruction", "text3d mesh vs the true scene: Chamfer, F-score"),
    "speed": ("python -m bench.speed", "stage times, images/s, peak memory, UNet FLOP rate"),
    "uncertainty": ("python -m bench.uncertainty", "spread over samples vs error: Spearman, sparsification"),
    "super_resolution": ("python -m bench.super_resolution", "256-px views: detail, alignment, depth edges, speed"),
    "outpainting": ("python -m bench.outpainting", "every orbit view: scene alignment, detail, seams; text vs prompt-blind inpainting"),
}
# Benchmarks on data that may be absent (the shared real set beside the checkout): a section only once run.
REAL_DATA_SECTIONS: dict[str, tuple[str, str]] = {
    "real_depth": ("python -m bench.real_depth", "depth on real Kinect photographs vs regression, ramp, constant"),
    "real_photo3d": ("python -m bench.real_photo3d", "text3d from a real photo vs the TSDF-fused real surface"),
}
# Benchmarks of other owners, linked (not re-rendered): title, command, markdown, json, image, what.
EXTERNAL = [
    ("Text-to-image: prompt alignment and diversity", "python -m bench.bench_t2i", "t2i_eval.md", "t2i_eval.json",
     "t2i_grid.png", "embedded text-to-image model (python -m bench.bench_t2i, separate owner)"),
    ("Procedural data generator speed", "python -m bench.bench_procedural", "procedural_speed.md",
     "procedural_speed.json", None, "procedural RGB-D images/s (python -m bench.bench_procedural, separate owner)"),
]


def demote(markdown: str) -> str:
    """Headings one level deeper (a benchmark's '## Indoor' becomes '### Indoor' under its section)."""
    return "\n".join("#" + ln if ln.startswith("#") else ln for ln in markdown.splitlines())


def load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def section(name: str, docs: Path) -> tuple[list[str], list[str]]:
    """(markdown lines of the section, its row of the overview table)."""
    command, what = {**SECTIONS, **REAL_DATA_SECTIONS}[name]
    module = importlib.import_module(f"bench.{name}")
    title = module.TITLE
    path = docs / f"bench_{name}.json"
    report = load(path) if path.is_file() else None
    if report is None:
        status = "unreadable JSON" if path.is_file() else "not yet run"
        lines = [f"## {title}", "", f"**Not yet run.** `{command}` writes `docs/bench_{name}.json`."
                 if not path.is_file() else f"**{path.name} could not be read**; re-run `{command}`."]
        return lines, [f"[{title}](#{anchor(title)})", what, status, "", ""]
    try:
        body = demote(module.markdown(report))
    except (KeyError, TypeError, ValueError, IndexError) as e:
        body = f"**{path.name} could not be rendered** ({e.__class__.__name__}: {e}); re-run `{command}`."
    status = "quick mode only (not a result)" if report.get("quick") else "run"
    lines = [f"## {title}", "", *report_header(report),
             f"- Files: [bench_{name}.md](bench_{name}.md), [bench_{name}.json](bench_{name}.json). "
             f"Command: `{command}`.", "", body]
    row = [f"[{title}](#{anchor(title)})", what, status, report.get("started", "?")[:16],
           fmt_seconds(report.get("wall_s"))]
    return lines, row


def anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes."""
    keep = "".join(c for c in title.lower() if c.isalnum() or c in " -")
    return keep.replace(" ", "-")


def external_section(title: str, command: str, md: str, js: str, image: str | None, what: str,
                     docs: Path) -> tuple[list[str], list[str]]:
    """A linked section for another owner's benchmark (its own markdown is the reference)."""
    row = [f"[{title}](#{anchor(title)})", what]
    if not (docs / md).is_file():
        return [f"## {title}", "", f"**Not yet run.** `{command}` writes `docs/{md}`."], row + ["not yet run", "", ""]
    report = load(docs / js) or {}
    links = [f"[{f}]({f})" for f in (md, js, image) if f and (docs / f).is_file()]
    lines = [f"## {title}", "", f"Written by `{command}` (see its page for the machine and settings): "
             f"{', '.join(links)}."]
    if isinstance(report.get("alignment"), (int, float)):
        lines.append(f"Alignment (scene-type classifier agrees with the prompt): {report['alignment']:.1%}.")
    if image and (docs / image).is_file():
        lines += ["", f"![{title}]({image})"]
    date = report.get("date") or (report.get("info") or {}).get("date") or ""
    return lines, row + ["run", str(date)[:16], ""]


def build(docs: Path) -> str:
    parts, rows = [], []
    for name in SECTIONS:
        lines, row = section(name, docs)
        parts.append("\n".join(lines))
        rows.append(row)
    for name in REAL_DATA_SECTIONS:
        if (docs / f"bench_{name}.json").is_file():
            lines, row = section(name, docs)
            parts.append("\n".join(lines))
            rows.append(row)
    for ext in EXTERNAL:
        lines, row = external_section(*ext, docs)
        parts.append("\n".join(lines))
        rows.append(row)
    head = ["# Results", "",
            "Generated by `python -m bench.results` from the benchmark JSON files in `docs/`; do not edit by hand. "
            "Every figure below was measured by the script named in its section, on the machine named there; "
            "sections of benchmarks that have not been run say so. Quick-mode runs only check that a script works.",
            "", md_table(["benchmark", "measures", "status", "measured", "wall time"], rows, numeric_from=4), ""]
    repro = ["## How to reproduce", "",
             "Run from the repository root (defaults use the shipped models in `assets/`; add `--quick` for a smoke "
             "test, `--help` for every option), then regenerate this page:", "", "```",
             *[SECTIONS[n][0] for n in SECTIONS], *[e[1] for e in EXTERNAL],
             *[f"{REAL_DATA_SECTIONS[n][0]}   # needs ../shared/data/real-7scenes-redkitchen" for n in REAL_DATA_SECTIONS],
             "python -m bench.results", "```"]
    return "\n".join(head) + "\n" + "\n\n".join(parts + ["\n".join(repro)]) + "\n"


def build_parser():
    p = make_parser("python -m bench.results", __doc__.split("\n")[0])
    p.add_argument("--docs", default=str(DOCS), help="folder holding the bench_*.json files (default docs/)")
    p.add_argument("--out", default=None, help="output file (default <docs>/RESULTS.md)")
    return p


@cli_main(build_parser)
def main(args: argparse.Namespace) -> int:
    docs = Path(args.docs)
    if not docs.is_dir():
        raise ValueError(f"no docs folder at {docs}; give --docs DIR")
    out = Path(args.out) if args.out else docs / "RESULTS.md"
    write_text(out, build(docs))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
