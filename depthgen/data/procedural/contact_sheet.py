"""A contact sheet of procedural samples: RGB, clean depth (coloured), sensor depth and the caption.

    python -m depthgen.data.procedural.contact_sheet --out docs/procedural_contact_sheet.png [--n 32]
        [--size 128x128] [--split val] [--sensor kinect]
"""

from __future__ import annotations

import argparse
import sys
import textwrap

import numpy as np

from depthgen.common.cli import parse_size
from depthgen.common.io import colorize
from depthgen.data.procedural.sample import generate_sample, split_seed


def colourize_depth(depth: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 turbo colouring of log depth over 0.5-80 m (near = dark blue); 0 = black."""
    return colorize(depth, depth > 0, "turbo", 0.5, 80.0, scale="log")


def make_sheet(samples: list[dict], path: str, cols: int = 8) -> None:
    """Save a grid: per sample a column of RGB / depth / sensor depth with the caption below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (len(samples) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.3, rows * 7.4))
    axes = np.atleast_2d(axes)
    for ax in axes.ravel():
        ax.axis("off")
    for i, s in enumerate(samples):
        ax = axes[i // cols, i % cols]
        gap = np.full((3, s["rgb"].shape[1], 3), 255, np.uint8)
        img = np.concatenate([s["rgb"], gap, colourize_depth(s["depth"]), gap, colourize_depth(s["sensor_depth"])])
        ax.imshow(img, interpolation="nearest")
        cap = "\n".join(textwrap.wrap(s["caption"], 30))
        ax.set_title(f"{s['scene_type']} (seed {s['seed']})", fontsize=7)
        ax.text(0.0, -0.02, cap, transform=ax.transAxes, fontsize=6, va="top")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m depthgen.data.procedural.contact_sheet")
    p.add_argument("--out", default="docs/procedural_contact_sheet.png")
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--size", default="128x128", help="image size WxH")
    p.add_argument("--split", default="val")
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--sensor", default="kinect")
    a = p.parse_args(argv)
    try:
        size = parse_size(a.size, "--size", minimum=2)
        sensor = None if a.sensor == "none" else a.sensor
        samples = [generate_sample(split_seed(a.split, a.start + i), size, sensor) for i in range(a.n)]
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    make_sheet(samples, a.out)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
