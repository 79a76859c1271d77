"""The contact sheet of ``bench.super_resolution`` (views and depth before / after) and its small helpers."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from bench.common import pyplot
from depthgen.common.io import colorize
from text3d.geometry.upsample import joint_bilateral_upsample

SCALE = 4


def upsample_image(image: np.ndarray, scale: int, mode: str) -> np.ndarray:
    """(h, w, 3) float [0, 1] -> (h scale, w scale, 3) by ``mode`` (bicubic | bilinear | nearest), clipped."""
    t = torch.from_numpy(np.ascontiguousarray(image, np.float32)).permute(2, 0, 1)[None]
    kw = {} if mode == "nearest" else {"align_corners": False}
    out = F.interpolate(t, scale_factor=scale, mode=mode, **kw)[0].permute(1, 2, 0).numpy()
    return np.clip(out, 0, 1).astype(np.float32)


def valid_bilinear(depth: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling of depth (h, w) metres that ignores invalid (0) pixels (normalised weights); 0 where
    no valid pixel contributes. The baseline of the guided upsampling."""
    d = torch.from_numpy(np.ascontiguousarray(depth, np.float32))[None, None]
    v = (d > 0).float()
    num = F.interpolate(d * v, size=size, mode="bilinear", align_corners=False)
    den = F.interpolate(v, size=size, mode="bilinear", align_corners=False)
    return torch.where(den > 1e-6, num / den.clamp_min(1e-6), torch.zeros_like(num))[0, 0].numpy()


def _depth_rgb(depth: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return colorize(depth, depth > 0, "turbo", float(lo), float(hi)).astype(np.float32) / 255


def contact_sheet(views: list[dict], sr, depth_pipe, base: dict | None, runs: dict | None):
    """A figure: per procedural view, the 64-px input (bicubic), the super-resolved view, the true 256-px
    render, DepthGen's depth upsampled bilinearly and guided; then base-model views before / after; then the
    hd run's first views and depth."""
    from PIL import Image

    rows: list[tuple[str, list[tuple[str, np.ndarray]]]] = []
    for v in views:
        out = sr(v["lr"], generator=torch.Generator().manual_seed(v["index"]))
        pred = depth_pipe(v["lr"], num_samples=2, num_inference_steps=10,
                          generator=torch.Generator().manual_seed(v["index"])).depth
        lo, hi = np.percentile(pred, [2, 98])
        rows.append((f"test {v['index']}", [
            ("64 px (bicubic)", upsample_image(v["lr"], SCALE, "bicubic")), ("super-resolved", out),
            ("true 256 px", v["hr"]), ("depth: bilinear", _depth_rgb(valid_bilinear(pred, out.shape[:2]), lo, hi)),
            ("depth: guided", _depth_rgb(joint_bilateral_upsample(pred, out, v["lr"]), lo, hi))]))
    if base:
        cells = []
        for p, im, up in list(zip(base["prompts"], base["images"], base["ups"]))[:2]:
            cells += [(f"'{p[:22]}' 64 px", upsample_image(im, SCALE, "nearest")),
                      (f"super-resolved (level {base.get('hd_level')})", up)]
        rows.append(("text-to-image", cells[:5]))
    if runs and "hd" in runs:
        from pathlib import Path

        folder = Path(runs["hd"]["folder"]) / "views"
        rgb = [np.asarray(Image.open(p).convert("RGB"), np.float32) / 255 for p in sorted(folder.glob("rgb_*.png"))[:3]]
        dep = [np.asarray(Image.open(p).convert("RGB"), np.float32) / 255 for p in sorted(folder.glob("depth_0*.png"))[:2]]
        rows.append(("hd run", [(f"view {i}", im) for i, im in enumerate(rgb)] + [(f"depth {i}", d) for i, d in enumerate(dep)]))
    plt = pyplot()
    ncol = max(len(c) for _, c in rows)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(2.6 * ncol, 2.75 * len(rows)), squeeze=False)
    for r, (label, cells) in enumerate(rows):
        for c in range(ncol):
            ax = axes[r, c]
            ax.axis("off")
            if c < len(cells):
                ax.imshow(np.clip(cells[c][1], 0, 1), interpolation="nearest")
                ax.set_title(cells[c][0], fontsize=8)
        axes[r, 0].text(-0.06, 0.5, label, transform=axes[r, 0].transAxes, rotation=90, va="center", ha="right",
                        fontsize=9)
    fig.tight_layout()
    return fig
