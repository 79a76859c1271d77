"""A before / after contact sheet of text-to-image models from pure noise -> docs/t2i_before_after.png.

    python -m bench.t2i_sheet --before assets/t2i --after runs/t2i-latent/pipeline [--prompts P.yaml] [--seeds 4]
                              [--steps 25] [--guidance G] [--tile 128] [--out docs/t2i_before_after.png]

Each row is one prompt: ``--seeds`` images of the "before" pipeline, then as many of the "after" one, all with
seeds 0..seeds-1 and ``layout_strength=1`` (the UNet alone, no retrieved layout), shown at ``--tile`` pixels.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from bench.bench_t2i import ROOT, load_prompts
from depthgen.common.io import atomic_path
from text3d.models.t2i.evaluate import generate_set, image_grid
from text3d.models.t2i.pipeline import TextToImagePipeline
from text3d.models.t2i.realism import resized

SHEET_PROMPTS = ROOT / "configs" / "models" / "t2i" / "sheet_prompts.yaml"


def sample_from_noise(pipeline: str, prompts: list[str], seeds: list[int], steps: int, guidance: float | None,
                      tile: int) -> np.ndarray:
    """(len(prompts) * len(seeds), tile, tile, 3) float images of ``pipeline`` from pure noise, prompt-major;
    ``guidance`` None: the pipeline's saved guidance."""
    pipe = TextToImagePipeline.from_pretrained(pipeline)
    images, _ = generate_set(pipe, prompts, seeds, steps, guidance, layout_strength=1.0)
    return resized(images, tile)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True, help="pipeline folder shown first in each row")
    ap.add_argument("--after", required=True, help="pipeline folder shown second")
    ap.add_argument("--prompts", default=str(SHEET_PROMPTS))
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--guidance", type=float, default=None, help="default: each pipeline's saved guidance")
    ap.add_argument("--tile", type=int, default=128)
    ap.add_argument("--out", default=str(ROOT / "docs" / "t2i_before_after.png"))
    args = ap.parse_args(argv)
    try:
        if args.seeds < 1 or args.tile < 16:
            raise ValueError("--seeds must be >= 1 and --tile >= 16")
        specs = load_prompts(args.prompts)
        prompts, seeds = [s.prompt for s in specs], list(range(args.seeds))
        before = sample_from_noise(args.before, prompts, seeds, args.steps, args.guidance, args.tile)
        after = sample_from_noise(args.after, prompts, seeds, args.steps, args.guidance, args.tile)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    k = len(seeds)
    rows = [list(before[i * k:(i + 1) * k]) + list(after[i * k:(i + 1) * k]) for i in range(len(prompts))]
    sheet = image_grid(rows, prompts, scale=1)
    with atomic_path(Path(args.out)) as tmp:
        Image.fromarray(sheet).save(tmp, format="PNG")
    print(f"wrote {args.out}: {len(prompts)} prompts x {k} seeds, before | after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
