"""Evaluate a depth model on NYU, KITTI, a folder dataset or the procedural test split.

CLI::

    python -m depthgen.evaluate --model PATH --data SPEC [--samples 1 2 4 8] [--steps N]
        [--protocol nyu|kitti|none] [--crop eigen|garg|none] [--min-depth M] [--max-depth M]
        [--median-scaling] [--limit N] [--out DIR] [--seed S] [--batch-size B] [--device auto|cpu|cuda]

Python API: ``evaluate_model(pipe_or_predict_fn, dataset, protocol, samples=...)`` accepts a DepthGen pipeline
or any callable ``predict(rgb (H, W, 3) float32 [0, 1], k, generator) -> (k, H, W) depth samples (m)``, so
baselines are scored identically. For several sample counts, ``max(samples)`` samples are drawn once per image
and the first k are median-aggregated for each k. Each image gets its own CPU generator seeded from
``(seed, image index)``, so results do not depend on ``--limit`` or on the device.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from depthgen.common.cli import ArgumentParser, resolve_device
from depthgen.data.eval_sets import SPEC_HELP, dataset_default_protocol, parse_data_spec
from depthgen.evaluation.metrics import (CROPS, PROTOCOLS, Protocol, aggregate_metrics, check_metric_names,
                                         compute_metrics, get_protocol)
from depthgen.evaluation.report import metrics_table, write_results

PredictFn = Callable[..., Any]  # (rgb (H, W, 3) float [0, 1], k, generator, K=None (3, 3)) -> (k, H, W) m


def image_seed(seed: int, index: int) -> int:
    """A 63-bit seed for image ``index`` of a run with ``seed`` (independent streams, no overlaps)."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def pipeline_predict_fn(pipe: Any, steps: int | None = None, batch_size: int | None = None,
                        **call_kwargs: Any) -> PredictFn:
    """Wrap a DepthGen pipeline as a predict function drawing at most ``batch_size`` samples per forward pass
    (passed on as the pipeline's own ``batch_size`` when it takes one, else by calling it in chunks). The
    function takes the image's camera as ``K=`` (3, 3) when it is known, and passes it on."""
    import inspect

    if hasattr(pipe, "set_progress_bar_config"):
        pipe.set_progress_bar_config(disable=True)
    try:
        native_batch = "batch_size" in inspect.signature(pipe.__call__).parameters
    except (TypeError, ValueError):
        native_batch = False

    def predict(rgb: np.ndarray, k: int, generator: torch.Generator, K: np.ndarray | None = None) -> np.ndarray:
        kwargs = dict(call_kwargs, generator=generator)
        if K is not None:
            kwargs["K"] = K
        if steps is not None:
            kwargs["num_inference_steps"] = steps
        if native_batch or batch_size is None:
            if batch_size is not None:
                kwargs["batch_size"] = batch_size
            return _as_samples(pipe(rgb, num_samples=k, **kwargs).samples)
        chunks = [_as_samples(pipe(rgb, num_samples=min(batch_size, k - lo), **kwargs).samples)
                  for lo in range(0, k, batch_size)]
        return np.concatenate(chunks, axis=0)

    return predict


def _as_samples(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    x = np.asarray(x, dtype=np.float32)
    return x[None] if x.ndim == 2 else x


def _fit_to(samples: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize (k, h, w) predictions bilinearly to the ground truth's (H, W) when they differ."""
    if samples.shape[1:] == tuple(shape):
        return samples
    import cv2

    return np.stack([cv2.resize(s, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) for s in samples])


def resolve_protocol(dataset: Any, item: dict, protocol: str | Protocol | None = None, *, crop: str | None = None,
                     min_depth: float | None = None, max_depth: float | None = None) -> Protocol:
    """The protocol for one item: the caller's, else the item's, else the dataset's, else ``none``. The crop is
    ``crop`` if given, else the dataset's ``default_crop`` if it has one, else the protocol's."""
    proto = get_protocol(protocol if protocol is not None else dataset_default_protocol(dataset, item))
    crop = crop or getattr(dataset, "default_crop", None) or proto.crop
    return get_protocol(proto, crop=crop, min_depth=min_depth, max_depth=max_depth)


def score_item(predict: Callable, item: dict, index: int, proto: Protocol, ks: Sequence[int], names: Sequence[str],
               seed: int, median_scaling: bool, known_camera: bool = False) -> tuple[dict, float]:
    """One image's metrics for each sample count in ``ks`` (the median of the first k of ``max(ks)`` samples
    drawn with the image's own seed), and the seconds the prediction took. ``known_camera``: pass the item's
    ``K`` (3, 3) to ``predict`` as ``K=`` (an item without one is an error)."""
    k_max = max(ks)
    gt = np.asarray(item["depth"], dtype=np.float32)
    rgb = np.asarray(item["rgb"])
    rgb = rgb.astype(np.float32) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float32)
    generator = torch.Generator("cpu").manual_seed(image_seed(seed, index))
    t0 = time.perf_counter()
    if known_camera and item.get("K") is None:
        raise ValueError(f"image {index} has no camera K; evaluate without the known camera")
    camera = {"K": np.asarray(item["K"], np.float64)} if known_camera else {}
    pred = _as_samples(predict(rgb, k_max, generator, **camera))
    took = time.perf_counter() - t0
    if pred.ndim != 3 or pred.shape[0] < k_max:
        raise ValueError(f"the model returned shape {pred.shape} for {k_max} samples; expected (k, H, W)")
    pred = _fit_to(pred[:k_max], gt.shape)
    row: dict[str, Any] = {"index": index, "name": str(item.get("name", index)), "protocol": proto.name, "k": {}}
    for k in ks:
        depth = pred[0] if k == 1 else np.median(pred[:k], axis=0)
        row["k"][str(k)] = compute_metrics(depth, gt, item.get("valid"), proto, median_scaling=median_scaling,
                                           metrics=names)
    return row, took


def _check_request(samples: Sequence[int], metrics: Sequence[str] | None, crop: str | None,
                   protocol: str | Protocol | None) -> tuple[list[int], list[str]]:
    """(sorted sample counts, metric names) after checking the request, before any prediction is made."""
    ks = sorted({int(k) for k in samples})
    if not ks or ks[0] < 1:
        raise ValueError(f"sample counts must be >= 1, got {list(samples)}")
    if crop is not None and crop not in CROPS:
        raise ValueError(f"unknown crop {crop!r}; choose from {list(CROPS)}")
    if protocol is not None:
        get_protocol(protocol)
    return ks, list(check_metric_names(metrics))


def evaluate_model(model: Any, dataset: Any, protocol: str | Protocol | None = None, *,
                   samples: Sequence[int] = (1,), steps: int | None = None, median_scaling: bool = False,
                   limit: int | None = None, seed: int = 0, batch_size: int | None = None, crop: str | None = None,
                   min_depth: float | None = None, max_depth: float | None = None,
                   metrics: Sequence[str] | None = None, out_dir: str | Path | None = None,
                   progress: bool = False, info: dict | None = None, known_camera: bool = False) -> dict:
    """Score a model on a dataset.

    Args:
        model: a pipeline (anything with ``from_pretrained``, called as ``pipe(image, num_samples=k,
            num_inference_steps=steps, generator=g)`` returning ``.samples`` (k, H, W)) or a predict function.
        dataset: items with ``rgb`` (H, W, 3) uint8, ``depth`` (H, W) metres, optional ``valid`` and ``name``.
        protocol: a ``PROTOCOLS`` name / ``Protocol``; ``None`` uses each dataset's or item's own.
        samples: sample counts to report; ``max(samples)`` are drawn per image.
        steps, batch_size: pipelines only: denoising steps (default: the pipeline's) and samples per forward pass.
        crop, min_depth, max_depth: override the protocol's crop and caps.
        median_scaling: per-image median scaling before the metrics (relative-depth models).
        known_camera: give the model each item's ``K``; else it assumes its default field of view.
        out_dir: when given, write ``results.json`` and ``results.md`` there.
        info: extra keys (``model``, ``data``, ``device``) stored in the results.
    Returns:
        dict with ``metrics`` {str(k): {metric: mean over images, num_images, num_empty}}, ``by_protocol``
        (the same per protocol name when several are used), ``per_image`` rows, ``protocols``, settings and
        ``seconds_per_image`` (measured wall time of the predictions).
    """
    ks, names = _check_request(samples, metrics, crop, protocol)
    predict = (pipeline_predict_fn(model, steps, batch_size) if hasattr(model, "from_pretrained") else model)
    n = len(dataset) if limit is None else min(len(dataset), int(limit))
    if n < 1:
        raise ValueError("the dataset is empty (or --limit is 0); nothing to evaluate")
    per_image: list[dict] = []
    protocols: dict[str, dict] = {}
    seconds = 0.0
    for i in tqdm(range(n), desc="evaluate", unit="img", disable=not progress):
        item = dataset[i]
        proto = resolve_protocol(dataset, item, protocol, crop=crop, min_depth=min_depth, max_depth=max_depth)
        protocols[proto.name] = proto.to_dict()
        row, took = score_item(predict, item, i, proto, ks, names, seed, median_scaling, known_camera)
        per_image.append(row)
        seconds += took

    def by_k(rows: list[dict]) -> dict[str, dict]:
        return {str(k): aggregate_metrics([r["k"][str(k)] for r in rows], names) for k in ks}

    overall = by_k(per_image)
    results: dict[str, Any] = {
        **(info or {}),
        "data_repr": repr(dataset), "samples": ks, "steps": steps, "seed": seed,
        "median_scaling": bool(median_scaling), "known_camera": bool(known_camera),
        "metric_names": names, "protocols": protocols,
        "num_images": overall[str(ks[0])]["num_images"], "num_empty": overall[str(ks[0])]["num_empty"],
        "seconds_per_image": seconds / n,
        "metrics": overall,
    }
    if len(protocols) > 1:
        results["by_protocol"] = {p: by_k([r for r in per_image if r["protocol"] == p]) for p in protocols}
    results["per_image"] = per_image
    if out_dir is not None:
        results["files"] = {k: str(v) for k, v in write_results(results, out_dir).items()}
    return results


# ------------------------------------------------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m depthgen.evaluate", description="Evaluate a DepthGen pipeline on a depth dataset.")
    p.add_argument("--model", required=True, help="saved DepthGen pipeline folder (DepthGenPipeline.save_pretrained)")
    p.add_argument("--data", required=True, help=f"dataset spec: {SPEC_HELP}")
    p.add_argument("--samples", type=int, nargs="+", default=[1], help="sample counts to report (default 1)")
    p.add_argument("--steps", type=int, default=None, help="denoising steps (default: the pipeline's)")
    p.add_argument("--scheduler", default=None, help="sampler passed to the pipeline (ddim | dpm)")
    p.add_argument("--protocol", default=None, help="nyu | kitti | none (default: the dataset's own)")
    p.add_argument("--crop", default=None, help="eigen | garg | none (default: the protocol's / dataset's)")
    p.add_argument("--min-depth", type=float, default=None, help="override the protocol's lower cap (m)")
    p.add_argument("--max-depth", type=float, default=None, help="override the protocol's upper cap (m)")
    p.add_argument("--median-scaling", action="store_true", help="per-image median scaling (relative depth)")
    p.add_argument("--known-camera", action="store_true",
                   help="give the model each image's true K (procedural and folder data carry it); "
                        "default: the model assumes its default field of view")
    p.add_argument("--metrics", nargs="+", default=None, help="metric names (default: all)")
    p.add_argument("--depth-scale", type=float, default=None, help="folder data: depth PNG units per metre")
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N images")
    p.add_argument("--out", default=None, help="output folder (default outputs/eval/<model>-<data kind>)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=None,
                   help="at most B samples per forward pass (default: all at once)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def load_pipeline(path: str | Path, device: str) -> Any:
    """``DepthGenPipeline.from_pretrained(path)`` on ``device``; ``ValueError`` with one line on failure."""
    p = Path(path)
    if not p.is_dir():
        raise ValueError(f"model folder not found: {p}; give --model a folder saved by "
                         "DepthGenPipeline.save_pretrained")
    if not (p / "model_index.json").is_file():
        raise ValueError(f"{p} is not a saved pipeline (no model_index.json); give a DepthGenPipeline folder")
    try:
        from depthgen.models.depth_pipeline import DepthGenPipeline
    except ImportError as e:
        raise ValueError(f"cannot import depthgen.models.depth_pipeline ({e})") from None
    try:
        pipe = DepthGenPipeline.from_pretrained(str(p))
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"cannot load a DepthGen pipeline from {p} ({first})") from None
    return pipe.to(device)


def _check_args(a: argparse.Namespace) -> None:
    if a.protocol is not None and a.protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {a.protocol!r}; choose from {list(PROTOCOLS)}")
    if a.crop is not None and a.crop not in CROPS:
        raise ValueError(f"unknown crop {a.crop!r}; choose from {list(CROPS)}")
    for name in ("steps", "limit", "batch_size"):
        v = getattr(a, name)
        if v is not None and v < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {v}")
    if min(a.samples) < 1:
        raise ValueError(f"--samples must all be >= 1, got {a.samples}")
    check_metric_names(a.metrics)
    get_protocol(a.protocol or "none", min_depth=a.min_depth, max_depth=a.max_depth)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: returns 0 on success, 2 with a one-line message on bad input."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help
        return int(e.code or 0)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        _check_args(args)
        dataset = parse_data_spec(args.data, depth_scale=args.depth_scale)
        device = resolve_device(args.device)
        pipe = load_pipeline(args.model, device)
        call_kwargs = {"scheduler": args.scheduler} if args.scheduler else {}
        predict = pipeline_predict_fn(pipe, args.steps, args.batch_size, **call_kwargs)
        out = args.out or Path("outputs") / "eval" / f"{Path(args.model).name}-{args.data.split(':', 1)[0]}"
        results = evaluate_model(
            predict, dataset, args.protocol, samples=args.samples, steps=args.steps,
            median_scaling=args.median_scaling, limit=args.limit, seed=args.seed, crop=args.crop,
            min_depth=args.min_depth, max_depth=args.max_depth, metrics=args.metrics, out_dir=out,
            progress=not args.quiet, known_camera=args.known_camera,
            info={"model": str(args.model), "data": args.data, "device": device})
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    print(metrics_table(results["metrics"], results["metric_names"]))
    print(f"wrote {results['files']['json']} and {results['files']['md']}")
    return 0


def cli() -> None:
    sys.exit(main())
