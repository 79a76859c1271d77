"""Float16 against float32: how far the shipped embedded models' outputs move in half precision.

    python -m bench.precision [--out-dir docs/] [--device cpu|cuda] [--steps 10] [--quick]

Each model runs twice from the same seed on the same input, once in float32 and once in float16 (the precision
``text3d.backends.placement.model_dtype`` gives them on CUDA): DepthGen (``assets/depthgen``, one sample) on a
64x64 procedural test view, scored as the mean relative depth difference; text-to-image (``assets/t2i``, "a cozy
library"), text inpainting (``assets/inpaint``, the right 44% of the view) and super-resolution (``assets/sr``),
scored as PSNR (dB) of the float16 image against the float32 one and the largest pixel difference. On a CPU
PyTorch's float16 kernels stand in for the GPU's (slow, and they accumulate differently). Writes
DIR/precision.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from bench.common import ASSETS, base_parser, cli_main, new_report, write_json

NAME = "precision"


def build_parser() -> argparse.ArgumentParser:
    p = base_parser(f"python -m bench.{NAME}", __doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=10, help="sampling steps of the diffusion models (default 10)")
    return p


def cases(steps: int) -> dict[str, tuple[Callable[[], Any], Callable[[Any, torch.Generator], np.ndarray]]]:
    """name -> (load the pipeline, run it with a generator -> output array)."""
    from depthgen.data.procedural import generate_sample, split_seed
    from depthgen.models.depth_pipeline import DepthGenPipeline
    from text3d.models.inpaint import TextInpaintPipeline
    from text3d.models.sr import SuperResolutionPipeline
    from text3d.models.t2i.pipeline import TextToImagePipeline

    image = generate_sample(split_seed("test", 0), size=(64, 64), sensor=None)["rgb"].astype(np.float32) / 255
    hole = np.zeros((64, 64), bool)
    hole[:, 36:] = True
    return {
        "depthgen": (lambda: DepthGenPipeline.from_pretrained(str(ASSETS / "depthgen")),
                     lambda p, g: p(image, num_samples=1, num_inference_steps=steps, generator=g).depth),
        "t2i": (lambda: TextToImagePipeline.from_pretrained(ASSETS / "t2i"),
                lambda p, g: p("a cozy library", num_inference_steps=steps, generator=g)[0]),
        "inpaint": (lambda: TextInpaintPipeline.from_pretrained(ASSETS / "inpaint"),
                    lambda p, g: p(image, hole, "a kitchen", num_inference_steps=steps, generator=g)),
        "sr": (lambda: SuperResolutionPipeline.from_pretrained(ASSETS / "sr"), lambda p, g: p(image, generator=g)),
    }


def compare(name: str, half: np.ndarray, full: np.ndarray) -> dict[str, float]:
    """Depth: mean relative difference; images: PSNR (dB, peak 1) and the largest difference."""
    if name == "depthgen":
        valid = full > 0
        return {"mean_rel_diff": float(np.mean(np.abs(half[valid] - full[valid]) / full[valid]))}
    mse = float(np.mean((half - full) ** 2))
    return {"psnr_db": float(10 * np.log10(1 / max(mse, 1e-12))), "max_abs_diff": float(np.abs(half - full).max())}


def run(args: argparse.Namespace) -> int:
    report = new_report(NAME, args, args.device)
    steps = 2 if args.quick else args.steps
    for name, (load, call) in cases(steps).items():
        outs = {}
        for dtype in (torch.float32, torch.float16):
            pipe = load().to(args.device, dtype)
            pipe.set_progress_bar_config(disable=True)
            outs[dtype] = np.asarray(call(pipe, torch.Generator().manual_seed(args.seed)), np.float32)
        report["results"][name] = compare(name, outs[torch.float16], outs[torch.float32])
        print(f"{name}: {report['results'][name]}")
    report.pop("_t0")
    print(f"wrote {write_json(Path(args.out_dir) / f'{NAME}.json', report)}")
    return 0


main = cli_main(build_parser)(run)

if __name__ == "__main__":
    raise SystemExit(main())
