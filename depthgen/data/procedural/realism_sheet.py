"""A before / after sheet of the realism effects: each scene rendered plain and with ``realism="on"``.

    python -m depthgen.data.procedural.realism_sheet [--out docs/procedural_realism_sheet.png] [--n 12]
        [--size 128x96] [--split val] [--start 0] [--realism on]

``--size`` is WxH. Per scene: the plain render, the realism render (its own field of view when ``fov`` is on)
and the realism render's depth.
"""

from __future__ import annotations

import sys

import numpy as np


def make_before_after(seeds: list[int], path: str, size: tuple[int, int], realism: str = "on",
                      cols: int = 2) -> None:
    """Save the grid for ``seeds`` at ``size`` (H, W)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from depthgen.data.procedural.contact_sheet import colourize_depth
    from depthgen.data.procedural.sample import generate_sample

    rows = (len(seeds) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 8.0, rows * 2.3 * size[0] / size[1] * 4 / 3))
    axes = np.atleast_2d(axes)
    for ax in axes.ravel():
        ax.axis("off")
    for i, seed in enumerate(seeds):
        plain = generate_sample(seed, size, None)
        real = generate_sample(seed, size, None, realism=realism)
        gap = np.full((size[0], 3, 3), 255, np.uint8)
        ax = axes[i // cols, i % cols]
        ax.imshow(np.concatenate([plain["rgb"], gap, real["rgb"], gap, colourize_depth(real["depth"])], 1),
                  interpolation="nearest")
        hfov = np.degrees(2 * np.arctan(size[1] / 2 / real["K"][0, 0]))
        ax.set_title(f"{real['scene_type']} ({seed}): plain | realism ({hfov:.0f}° fov) | its depth", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    from depthgen.common.cli import ArgumentParser, parse_size
    from depthgen.data.procedural.realism import realism_config
    from depthgen.data.procedural.sample import split_seed

    p = ArgumentParser(prog="python -m depthgen.data.procedural.realism_sheet", description=__doc__.split("\n")[0])
    p.add_argument("--out", default="docs/procedural_realism_sheet.png")
    p.add_argument("--n", type=int, default=12, help="scenes (default 12)")
    p.add_argument("--size", default="128x96", help="image size WxH (default 128x96)")
    p.add_argument("--split", default="val")
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--realism", default="on", help="on | on,-effect,... (which effects the right image has)")
    try:
        a = p.parse_args(argv)
        h, w = parse_size(a.size, "--size", minimum=8)
        if a.n < 1:
            raise ValueError(f"--n must be >= 1, got {a.n}")
        if realism_config(a.realism) is None:
            raise ValueError("--realism must switch realism on (e.g. on or on,-jpeg)")
        seeds = [split_seed(a.split, a.start + i) for i in range(a.n)]
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    make_before_after(seeds, a.out, (h, w), a.realism)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
