"""Writing evaluation results: a markdown table for people and ``results.json`` for scripts.

The results dict is the one ``depthgen.evaluation.evaluate.evaluate_model`` returns; its ``metrics`` maps the sample
count (as a string) to the dataset means of every metric.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from depthgen.common.io import write_text
from depthgen.evaluation.metrics import DISPLAY_NAMES, HIGHER_IS_BETTER


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.3f}"


def metrics_table(by_k: dict[str, dict[str, float]], names: list[str]) -> str:
    """Markdown table: one row per sample count, one column per metric (arrows: which way is better)."""
    head = ["samples"] + [f"{DISPLAY_NAMES.get(n, n)} {'↑' if n in HIGHER_IS_BETTER else '↓'}" for n in names]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" for _ in head) + "|"]
    for k, row in by_k.items():
        lines.append("| " + " | ".join([str(k)] + [_fmt(row.get(n)) for n in names]) + " |")
    return "\n".join(lines)


def format_markdown(results: dict) -> str:
    """The whole report: what was evaluated, how, and the tables (overall and per protocol)."""
    names = list(results["metric_names"])
    lines = ["# Depth evaluation", "",
             f"- model: `{results.get('model', 'n/a')}`",
             f"- data: `{results.get('data', 'n/a')}` ({results['num_images']} images scored, "
             f"{results['num_empty']} with no valid pixel)",
             f"- protocol: {describe_protocols(results['protocols'])}",
             f"- median scaling: {'yes' if results['median_scaling'] else 'no'}; "
             f"steps: {results.get('steps') or 'pipeline default'}; seed: {results['seed']}",
             f"- per-image metrics averaged over images; several sample counts come from the same "
             f"{max(results['samples'])} samples per image (median of the first k)",
             f"- prediction time: {results['seconds_per_image']:.3f} s per image "
             f"({max(results['samples'])} samples, device {results.get('device', 'n/a')})",
             "", metrics_table(results["metrics"], names)]
    for proto, by_k in results.get("by_protocol", {}).items():
        lines += ["", f"## {proto} ({by_k[next(iter(by_k))]['num_images']} images)", "", metrics_table(by_k, names)]
    return "\n".join(lines) + "\n"


def describe_protocols(protocols: dict[str, dict]) -> str:
    parts = []
    for name, p in protocols.items():
        hi = "inf" if p["max_depth"] is None else f"{p['max_depth']:g}"
        parts.append(f"{name} (depth {p['min_depth']:g}..{hi} m, crop {p['crop']})")
    return "; ".join(parts) or "n/a"


def _jsonable(value: Any) -> Any:
    """NaN / inf floats become ``null`` so the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def write_results(results: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write ``results.json`` and ``results.md`` into ``out_dir`` (created; temp name then rename)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"cannot create output folder {out} ({e.strerror or e}); choose another --out") from None
    if not out.is_dir():
        raise ValueError(f"output path {out} is not a folder; choose another --out")
    paths = {"json": out / "results.json", "md": out / "results.md"}
    write_text(paths["json"], json.dumps(_jsonable(results), indent=2, allow_nan=False) + "\n")
    write_text(paths["md"], format_markdown(results))
    return paths
