"""bench.super_resolution: its measures on constructed images, and --quick end to end with tiny random models."""

from __future__ import annotations

import json

import numpy as np

from bench.super_resolution_metrics import depth_discontinuities, detail_share, edge_alignment, image_edges


def test_detail_share_separates_fine_from_coarse_content():
    rng = np.random.default_rng(0)
    noise = rng.uniform(0, 1, (256, 256, 3)).astype(np.float32)
    coarse = np.repeat(np.repeat(rng.uniform(0, 1, (64, 64, 3)), 4, 0), 4, 1).astype(np.float32)
    yy, xx = np.mgrid[:256, :256] / 256.0
    smooth = np.stack([0.5 + 0.4 * np.sin(2 * np.pi * 3 * xx)] * 3, -1).astype(np.float32)  # 3 cycles/image
    assert detail_share(np.full((256, 256, 3), 0.5, np.float32)) == 0.0
    assert detail_share(smooth) < 1e-3
    assert detail_share(noise) > 0.7  # white noise: most of the spectrum lies above 32 cycles/image
    assert detail_share(coarse) < detail_share(noise)


def test_edge_alignment_counts_depth_steps_on_image_edges():
    img = np.zeros((64, 64, 3), np.float32)
    img[:, 32:] = 1.0
    edges = image_edges(img)
    depth = np.full((64, 64), 2.0, np.float32)
    depth[:, 32:] = 4.0
    share, n = edge_alignment(depth, edges)
    assert share == 1.0 and n == 128
    moved = np.full((64, 64), 2.0, np.float32)
    moved[:, 40:] = 4.0  # the step 8 px away from the edge
    assert edge_alignment(moved, edges)[0] == 0.0
    assert not depth_discontinuities(np.zeros((8, 8), np.float32)).any()  # invalid depth is no discontinuity


def test_quick_run_writes_the_report(tmp_path):
    from diffusers import DDIMScheduler

    from bench.super_resolution import main
    from text3d.fakes import tiny_depth_pipeline
    from text3d.models.sr import SuperResolutionPipeline
    from text3d.models.sr.config import SRModelConfig
    from text3d.models.sr.model import build_unet

    for kind in ("regression", "diffusion"):
        unet = build_unet(SRModelConfig(kind=kind, block_out_channels=(8, 16)), seed=0)
        SuperResolutionPipeline(unet.eval(), DDIMScheduler(), kind=kind).save_pretrained(str(tmp_path / kind))
    tiny_depth_pipeline(16).save_pretrained(str(tmp_path / "depth"))
    argv = ["--quick", "--sr", str(tmp_path / "regression"), "--sr-diffusion", str(tmp_path / "diffusion"),
            "--depth", str(tmp_path / "depth"), "--prompts", "0", "--no-speed", "--no-reconstruction",
            "--out-dir", str(tmp_path / "docs"), "--work-dir", str(tmp_path / "work")]
    assert main(argv) == 0
    rep = json.loads((tmp_path / "docs" / "bench_super_resolution.json").read_text())
    methods = rep["results"]["quality"]["methods"]
    assert {"bicubic", "regression, level 0.1", "diffusion, 1 steps", "diffusion, 2 steps"} <= set(methods)
    assert {"DepthGen|bilinear", "DepthGen|guided"} <= set(rep["results"]["depth"])
    assert (tmp_path / "docs" / "bench_super_resolution_sheet.png").is_file()
    assert "## Depth at 256 px" in (tmp_path / "docs" / "bench_super_resolution.md").read_text()
    assert main(argv[:1] + ["--sr", str(tmp_path / "none")]) == 2
