"""Shipped-weight guard of the text-conditioned inpainting model (assets/inpaint, issue 18): every view of the
default orbit shows the prompted scene, with detail like the first view's.

Measured on the shipped weights (the pixel preset, "a cozy library", seed 0, one torch thread), with the layout
warped to each view's tilt and assets/scene-classifier trained on level and tilted renders: with DepthGen cycle 13,
6 of 10 views classified as a library, later-view detail median 0.93 of the first view's, the least 0.68; with
DepthGen cycle 11, 5 of 10 (the depth moves the mesh, and so each view's holes), 0.93, the least 0.69; with cycle
10, 6 of 10, 0.93, the least 0.65. With the level-only classifier: 8 of 10, 0.93. The prompt-blind Palette
inpainting model gave 1 of 10 and 0.04 (blank grey walls). The issue's goal, 70% of all views, is measured over
20 evaluation prompts by bench.outpainting (72.5% with DepthGen cycle 11 and 13, 70.0% with cycle 10); on this
one run the guard holds the measured 50%, five times the prompt-blind model's share.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from bench.outpainting_metrics import detail
from text3d.models.t2i.classifier import TrainedClassifier

ASSETS = Path(__file__).resolve().parents[2] / "assets"
MIN_ALIGNED = 0.5  # share of all views classified as the prompted scene type (measured: 0.5)
MIN_DETAIL_MEDIAN = 0.5  # later views' detail over the first view's
MIN_DETAIL = 0.1  # no blank view
MAX_ASSETS_MB = 100.0


def test_assets_within_the_repository_budget():
    assert (ASSETS / "inpaint" / "model_index.json").is_file()
    assert (ASSETS / "inpaint" / "README.md").is_file()
    total = sum(f.stat().st_size for f in ASSETS.rglob("*") if f.is_file())
    assert total / 2**20 <= MAX_ASSETS_MB


def test_every_orbit_view_shows_the_prompted_scene(tmp_path):
    import text3d

    result = text3d.generate_scene("a cozy library", seed=0, preset="pixel", out_dir=tmp_path / "run")
    images = [v.image for v in result.views]
    assert len(images) == 10 and result.views[0].kind == "first"
    labels = TrainedClassifier.load(ASSETS / "scene-classifier").predict(images)
    aligned = np.mean([label == "library" for label in labels])
    rel = [detail(im) / detail(images[0]) for im in images[1:]]
    assert aligned >= MIN_ALIGNED, labels
    assert np.median(rel) >= MIN_DETAIL_MEDIAN and min(rel) >= MIN_DETAIL, rel


SMALL_HOLE_MARGIN_DB = 0.1  # model's whole-hole PSNR on small holes at least Telea's minus this (measured: below)


def test_small_holes_are_filled_level_with_telea():
    """Holes under expected_fill_below of the picture (a walk's disocclusions) get the expected fill, which
    must stay level with OpenCV Telea there; 12 indoor test images at 64x64, the holes bench.inpainting draws.
    Measured (the mean of Telea r3 / r1, Navier-Stokes and the model): all 12 holes are small, model 22.64 dB
    against Telea 22.60 dB; 0.7 x Telea + 0.3 x model gave 22.49 dB; the sampled fill (guidance 6, layout start)
    18.21 dB."""
    from bench.completion import draw_hole
    from bench.inpainting import HOLE, psnr
    from depthgen.common.io import as_rgb
    from depthgen.data.eval_sets import parse_data_spec
    from text3d.backends.embedded import EmbeddedTextInpaint, classical_fill

    backend = EmbeddedTextInpaint.from_path(ASSETS / "inpaint")
    data, scores = parse_data_spec("procedural:test:indoor:12:64x64"), []
    for i in range(12):
        item = data[i]
        gt = np.asarray(item["depth"], np.float32)
        rgb = as_rgb(item["rgb"])
        hole = draw_hole(gt, gt > 0, item.get("K"), 0, i, **HOLE)[0]
        if not 0 < hole.mean() < backend.expected_fill_below:
            continue
        out = backend.inpaint(rgb, hole, prompt=str(item.get("caption", "")), steps=20,
                              generator=torch.Generator().manual_seed(i))
        scores.append((psnr(out, rgb, hole), psnr(classical_fill(rgb, hole), rgb, hole)))
    model, telea = np.mean(scores, axis=0)
    assert len(scores) >= 8 and model >= telea - SMALL_HOLE_MARGIN_DB, (len(scores), model, telea)
