"""Shared benchmark helpers: command-line options, the machine description, timing, and writing reports.

Every benchmark builds a report dict with ``new_report``, fills ``report["results"]``, and calls
``write_outputs(report, markdown, figures)``, which writes ``<out-dir>/bench_<name>.json``, ``.md`` and PNG
plots (temporary name, then rename). ``bench.results`` re-renders every JSON present into ``docs/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from depthgen.common.cli import ArgumentParser, format_size, parse_size, resolve_device
from depthgen.common.io import atomic_path, write_text as _write_text
from depthgen.data.eval_sets import parse_data_spec
from depthgen.evaluation.metrics import get_protocol
from depthgen.models.depth_pipeline import DepthGenPipeline

ROOT = Path(__file__).resolve().parents[1]  # the repository root: reports name paths relative to it
DOCS = ROOT / "docs"
ASSETS = ROOT / "assets"


def repo_relative(value: str | Path) -> str:
    """An absolute path inside the repository as a path relative to its root (POSIX), else ``value`` as it is:
    reports say which model or data set they used without the absolute path of the machine they ran on."""
    path = Path(value)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(ROOT).as_posix()
        except ValueError:
            pass
    return str(value)


# ------------------------------------------------------------------------------------------------ machine
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info(device: str = "cpu") -> dict[str, Any]:
    """What the numbers were measured on: CPU, cores, memory, torch version and threads, GPU if used, and
    the load average (the CPU may be shared with other jobs, which slows every timing)."""
    import torch

    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device,
    }
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        info["memory_gib"] = round(pages * page_size / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        info["memory_gib"] = None
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    try:
        info["load_average_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        info["load_average_start"] = None
    return info


def describe_machine(m: dict[str, Any]) -> str:
    """One line: 'AMD EPYC, 2 logical cores, 23 GiB, torch 2.x (2 threads), load 1.2 at start'."""
    parts = [str(m.get("cpu", "unknown CPU")), f"{m.get('logical_cores')} logical cores"]
    if m.get("memory_gib"):
        parts.append(f"{m['memory_gib']} GiB RAM")
    parts.append(f"torch {m.get('torch')} ({m.get('torch_threads')} threads)")
    if m.get("gpu"):
        parts.append(f"GPU {m['gpu']}")
    load = m.get("load_average_start")
    if load:
        parts.append(f"1-min load average {load[0]} at start")
    return ", ".join(parts)


# ------------------------------------------------------------------------------------------------- reports
def new_report(name: str, args: argparse.Namespace, device: str = "cpu") -> dict[str, Any]:
    """The report skeleton: name, settings (the parsed arguments), machine, start time."""
    settings = {k: (repo_relative(v) if isinstance(v, (str, Path)) else v) for k, v in vars(args).items()}
    return {"benchmark": name, "quick": bool(getattr(args, "quick", False)), "settings": settings,
            "machine": machine_info(device), "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
            "_t0": time.perf_counter(), "results": {}}


def jsonable(value: Any) -> Any:
    """Numpy scalars/arrays to Python, NaN / inf to None (strict JSON), paths to strings (relative to the
    repository root inside it, ``repo_relative``)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (str, Path)):
        return repo_relative(value)
    return value


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary name in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write_text(path, text)


def write_json(path: Path, obj: Any) -> Path:
    return write_text(path, json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n")


def save_figure(fig: Any, path: Path, dpi: int = 110) -> Path:
    """Save a matplotlib figure as PNG (temporary name, then rename) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def pyplot():
    """matplotlib.pyplot with the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def report_header(report: dict[str, Any]) -> list[str]:
    """Markdown lines saying when, where and how long, and flagging quick (smoke-test) runs."""
    lines = [f"- Measured {report.get('started', '?')} on: {describe_machine(report.get('machine', {}))}.",
             f"- Wall time of the whole benchmark: {fmt_seconds(report.get('wall_s'))}."]
    if report.get("quick"):
        lines.append("- **Quick mode** (smoke-test sizes): these numbers only show that the script runs; "
                     "they are not results.")
    return lines


class Skipped(Exception):
    """A benchmark that cannot run on this machine (its data is not here): ``cli_main`` prints why, exit 0."""


def real_data_dir(path: str | Path) -> Path:
    """The real-data folder of a benchmark; ``Skipped`` when it is not on this machine (real sets are not
    shipped, so a missing one is no error)."""
    data = Path(path)
    if not data.is_dir():
        raise Skipped(f"the real set is not at {data} (give --data DIR); nothing written")
    return data


def figure_lines(report: dict[str, Any]) -> list[str]:
    """Markdown lines that show the report's figures, each after a blank line."""
    return [line for f in report.get("figures", []) for line in ("", f"![{report['benchmark']}]({f})")]


def write_outputs(report: dict[str, Any], out_dir: str | Path, title: str,
                  markdown: Callable[[dict[str, Any]], str], figures: dict[str, Any] | None = None) -> dict[str, Path]:
    """Finish ``report`` (wall time, end load) and write figures, JSON and markdown into ``out_dir``.

    figures: {file suffix: matplotlib figure}, written as ``bench_<name>_<suffix>.png`` (or
    ``bench_<name>.png`` for the suffix ``""``); their names are stored in ``report["figures"]`` before
    ``markdown(report)`` renders the body (``bench.results`` renders the same body from the JSON).
    """
    out = Path(out_dir)
    name = report["benchmark"]
    report["wall_s"] = round(time.perf_counter() - report.pop("_t0", time.perf_counter()), 2)
    try:
        report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    paths: dict[str, Path] = {}
    report["figures"] = []
    for suffix, fig in (figures or {}).items():
        fname = f"bench_{name}{'_' + suffix if suffix else ''}.png"
        paths[f"png:{suffix}"] = save_figure(fig, out / fname)
        report["figures"].append(fname)
    paths["json"] = write_json(out / f"bench_{name}.json", report)
    md = "\n".join([f"# {title}", "", *report_header(report), "", markdown(report).rstrip(), ""])
    paths["md"] = write_text(out / f"bench_{name}.md", md)
    print(f"wrote {paths['md']}")
    return paths


# ------------------------------------------------------------------------------------------------ markdown
def fmt(value: Any, digits: int = 3) -> str:
    """A table cell: floats with ``digits`` decimals, None / NaN as n/a."""
    if value is None:
        return "n/a"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "n/a"
    return f"{v:.{digits}f}"


def fmt_seconds(s: Any) -> str:
    if s is None:
        return "n/a"
    s = float(s)
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


def md_table(head: Sequence[str], rows: Sequence[Sequence[Any]], numeric_from: int = 1) -> str:
    """A markdown table; columns from ``numeric_from`` on are right-aligned."""
    align = ["---" if i < numeric_from else "---:" for i in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------ CLI
def make_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argument parser whose errors become ValueError (one line, exit 2 through ``cli_main``)."""
    return ArgumentParser(prog=prog, description=description)


def base_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A parser with the options every benchmark has: --out-dir, --quick, --seed, --device."""
    p = make_parser(prog, description)
    p.add_argument("--out-dir", default=str(DOCS), help="where bench_<name>.{md,json,png} go (default docs/)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: checks that the script runs (< 1 min)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto (default cpu)")
    return p


def cli_main(build_parser: Callable[[], argparse.ArgumentParser]):
    """Turn a benchmark's ``run(args) -> int`` into its ``main(argv) -> int``.

    ``main`` parses ``argv`` with ``build_parser()``, resolves ``args.device`` (``depthgen.common.cli.resolve_device``)
    when the parser has ``--device``, turns a ValueError (a user mistake) into one line and exit code 2, and
    ``Skipped`` into one line and exit code 0.
    """

    def wrap(run: Callable[[argparse.Namespace], int]) -> Callable[[Sequence[str] | None], int]:
        @functools.wraps(run)
        def main(argv: Sequence[str] | None = None) -> int:
            try:
                args = build_parser().parse_args(argv)
                if hasattr(args, "device"):
                    args.device = resolve_device(args.device)
                return run(args)
            except Skipped as e:
                print(f"skipped: {e}")
                return 0
            except ValueError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2

        return main

    return wrap


def positive_ints(values: Sequence[int], what: str) -> list[int]:
    out = sorted({int(v) for v in values})
    if not out or out[0] < 1:
        raise ValueError(f"{what} must be whole numbers >= 1, got {list(values)}")
    return out


# ------------------------------------------------------------------------------------------------- models
def sampling_budget(args: argparse.Namespace, quick: tuple[int, int], min_samples: int = 1,
                    why: str = "") -> tuple[int, int]:
    """(samples, steps) of a DepthGen benchmark: ``quick`` with --quick, else --samples and --steps.

    ValueError unless samples >= ``min_samples`` (``why``: the reason, said in the message) and steps >= 1.
    """
    samples, steps = quick if args.quick else (args.samples, args.steps)
    if samples < min_samples or steps < 1:
        raise ValueError(f"--samples must be >= {min_samples}{why} and --steps >= 1, got {samples}, {steps}")
    return samples, steps


def load_depth_pipeline(path: str | Path, device: str = "cpu"):
    """A ``DepthGenPipeline`` from a saved folder, on ``device``, progress bars off."""
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.disable_progress_bar()
    pipe = DepthGenPipeline.from_pretrained(str(path)).to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def generator(seed: int, *stream: int):
    """A CPU torch.Generator seeded from (seed, *stream) (independent streams per image / role)."""
    import torch

    state = np.random.SeedSequence([int(seed), *[int(s) for s in stream]]).generate_state(2, np.uint32)
    return torch.Generator("cpu").manual_seed(int(state[0]) << 31 | int(state[1]) >> 1)


# --------------------------------------------------------------------------------------------------- data
KIND_PROTOCOL = {"indoor": "nyu", "outdoor": "kitti"}


def add_data_args(p: argparse.ArgumentParser, n: int, size: str = "320x240") -> None:
    """--n, --size, --indoor SPEC, --outdoor SPEC (depthgen.evaluation.evaluate data specs)."""
    p.add_argument("--n", type=int, default=n, help=f"images per kind (default {n})")
    p.add_argument("--size", default=size, help=f"procedural render size WxH (default {size})")
    p.add_argument("--indoor", default=None,
                   help="indoor data spec (default procedural:test:indoor:N:WxH; 'none' skips indoor)")
    p.add_argument("--outdoor", default=None,
                   help="outdoor data spec (default procedural:test:outdoor:N:WxH; 'none' skips outdoor)")


def eval_sets(args: argparse.Namespace, quick_n: int = 2, quick_size: str = "48x32") -> dict[str, dict[str, Any]]:
    """{kind: {"spec", "data", "n", "protocol"}} for indoor (NYU protocol) and outdoor (KITTI metric set).

    Quick mode uses ``quick_n`` images of ``quick_size``. Data specs are those of ``depthgen.evaluation.evaluate``.
    """
    n = quick_n if args.quick else int(args.n)
    if n < 1:
        raise ValueError(f"--n must be >= 1, got {n}")
    hw = parse_size(quick_size if args.quick else args.size, "--size", minimum=8)
    sets: dict[str, dict[str, Any]] = {}
    for kind, proto in KIND_PROTOCOL.items():
        spec = getattr(args, kind, None) or f"procedural:test:{kind}:{n}:{format_size(*hw)}"
        if spec == "none":
            continue
        data = parse_data_spec(spec)
        sets[kind] = {"spec": spec, "data": data, "n": min(n, len(data)), "protocol": proto}
    if not sets:
        raise ValueError("both --indoor and --outdoor are 'none'; nothing to evaluate")
    return sets


def scored_protocol(data: Any, protocol: str):
    """The ``depthgen.evaluation.metrics.Protocol`` used for a dataset: its caps, and its own default crop if it has one
    (procedural renders are not NYU/KITTI sensor frames, so they are scored uncropped)."""
    return get_protocol(protocol, crop=getattr(data, "default_crop", None))
