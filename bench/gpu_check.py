"""A short run of the default and the sd preset on one device: per-stage timings and peak GPU memory.

    python -m bench.gpu_check --out-dir DIR [--device cuda] [--quick]     (bash scripts/gpu_check.sh DIR)

1. ``default``: the preset as shipped (the embedded models in assets/, 256-px views through the super-resolution
   cascade), "a cozy library", seed 0.
2. ``sd``: the sd preset with its hub ids resolved from a temporary Hugging Face cache holding tiny random
   Stable Diffusion and Marigold models (``text3d.fakes``): the preset's sizes, views and guided Marigold depth
   completion, without a download; the timings say what the run costs around the models, not what the real
   weights cost.
Each run: ``text3d.generate_scene`` stage timings (``manifest.json``'s ``timings_s``), wall time, and on CUDA the
peak GPU memory ``torch.cuda.max_memory_allocated`` (MiB) and where TSDF fusion runs. ``--quick``: 64-px views,
2 walk views, 2 steps, no video (a rehearsal that the script runs). Writes DIR/gpu_check.json.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import base_parser, cli_main, new_report, write_json

NAME = "gpu_check"
PROMPTS = {"default": "a cozy library", "sd": "a sunny kitchen"}
QUICK = {"size": (64, 64), "views": 2, "steps": 2, "trajectory": "walk",
         "overrides": ["video.enabled=false", "cleanup.views=1"]}


def build_parser() -> argparse.ArgumentParser:
    p = base_parser(f"python -m bench.{NAME}", __doc__.split("\n")[0])
    p.set_defaults(device="cuda")
    return p


def tiny_sd_cache(root: Path) -> Path:
    """A Hugging Face cache folder holding tiny random models under the sd preset's hub ids."""
    from text3d.backends.hub_ids import MARIGOLD, SD_INPAINT, SD_T2I
    from text3d.fakes import put_in_hub_cache, save_tiny_marigold, save_tiny_stable_diffusion

    t2i, inpaint = save_tiny_stable_diffusion(root / "models")
    marigold = save_tiny_marigold(root / "models" / "marigold")
    for folder, repo in ((t2i, SD_T2I), (inpaint, SD_INPAINT), (marigold, MARIGOLD)):
        put_in_hub_cache(folder, repo, root / "hub")
    return root / "hub"


def run_preset(preset: str, device: str, out: Path, quick: bool, seed: int) -> dict[str, Any]:
    """One run: its stage timings, wall time and peak GPU memory."""
    import torch

    import text3d

    kwargs = dict(QUICK) if quick else {}
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    result = text3d.generate_scene(PROMPTS[preset], preset=preset, device=device, seed=seed, out_dir=out, **kwargs)
    if cuda:
        torch.cuda.synchronize()
    return {"wall_s": round(time.perf_counter() - t0, 3), "timings_s": result.timings,
            "peak_gpu_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1) if cuda else None,
            "backends": result.manifest.get("backends"), "views": len(result.views)}


def run(args: argparse.Namespace) -> int:
    from text3d.geometry.fuse import fusion_device

    report = new_report(NAME, args, args.device)
    report["fusion_device"] = str(fusion_device())
    with tempfile.TemporaryDirectory(prefix="text3d-gpu-check-") as tmp:
        work = Path(tmp)
        report["results"]["default"] = run_preset("default", args.device, work / "default", args.quick, args.seed)
        previous = os.environ.get("HF_HUB_CACHE")
        os.environ["HF_HUB_CACHE"] = str(tiny_sd_cache(work / "tiny"))
        try:
            report["results"]["sd"] = run_preset("sd", args.device, work / "sd", args.quick, args.seed)
        finally:
            if previous is None:
                os.environ.pop("HF_HUB_CACHE")
            else:
                os.environ["HF_HUB_CACHE"] = previous
    report.pop("_t0")
    for name, r in report["results"].items():
        peak = "" if r["peak_gpu_mib"] is None else f", peak GPU memory {r['peak_gpu_mib']} MiB"
        print(f"{name}: {r['wall_s']:.1f} s on {args.device}{peak}; stages (s): {r['timings_s']}")
    path = write_json(Path(args.out_dir) / f"{NAME}.json", report)
    print(f"wrote {path}")
    return 0


main = cli_main(build_parser)(run)

if __name__ == "__main__":
    raise SystemExit(main())
