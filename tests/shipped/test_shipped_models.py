"""Regression guards on the embedded models shipped in assets/ (real weights, a handful of images, CPU).

Thresholds are set from the figures measured on the shipped weights (see the model cards, assets/*/README.md)
with a margin, so a broken export, a wrong depth parametrisation or an accidentally replaced checkpoint fails here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

ASSETS = Path(__file__).resolve().parents[2] / "assets"
MAX_TOTAL_MB = 60.0

# REL on 6 procedural test images per kind at 64x64, 10 steps, seed 0, measured on the shipped weights.
# DepthGen (2 samples; cycle 13, camera- and aspect-aware), given each image's true camera: 0.082
# indoors (NYU caps), 0.175 outdoors (KITTI caps); with the default 60 degrees assumed 0.112 and 0.178 (cycle 11:
# 0.085 and 0.254 given, 0.109 and 0.257 assumed; cycle 10: 0.087 and 0.200 given, 0.117 and 0.196 assumed;
# cycle 7: 0.098 and 0.225 given, 0.136 and 0.236 assumed; cycle 6, which ignored the camera: 0.129 and 0.236).
# Six outdoor images are a small sample: on 50 outdoor test images at 64x64 (4 samples, 20 steps, K given)
# cycles 10 and 11 both score 0.185. The
# regression baseline (sixth cycle, no camera): 0.102 and 0.137.
# Before the per-image loss (diffusion.loss_reduction) DepthGen measured 0.336 outdoors, its depth stuck in
# indoor range, so the outdoor guard catches that coming back. Thresholds leave a margin of 0.02-0.04.
DEPTHGEN_REL = 0.10
DEPTHGEN_DEFAULT_CAMERA_REL = 0.13
REGRESSION_REL = 0.13
DEPTHGEN_OUTDOOR_REL = 0.22
REGRESSION_OUTDOOR_REL = 0.18


def _g(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


def _test_images(n: int, kind: str = "indoor"):
    from depthgen.data.eval_sets import parse_data_spec

    return parse_data_spec(f"procedural:test:{kind}:{n}:64x64")


def _rel(path: Path, samples: int, kind: str = "indoor", known_camera: bool = False) -> float:
    from depthgen.evaluation.evaluate import evaluate_model, load_pipeline

    pipe = load_pipeline(path, "cpu")
    res = evaluate_model(pipe, _test_images(6, kind), "nyu" if kind == "indoor" else "kitti", samples=(samples,),
                         steps=10, seed=0, known_camera=known_camera)
    return float(res["metrics"][str(samples)]["abs_rel"])


def test_every_embedded_model_is_shipped_within_the_size_budget():
    names = ("t2i", "inpaint", "depthgen", "regression")
    for name in names:
        assert (ASSETS / name / "model_index.json").is_file(), f"assets/{name} is missing"
        assert (ASSETS / name / "README.md").is_file() or (ASSETS / "README.md").is_file()
    total = sum(f.stat().st_size for name in names for f in (ASSETS / name).rglob("*") if f.is_file())
    assert total / 2**20 <= MAX_TOTAL_MB


def test_shipped_depthgen_accuracy_on_procedural_indoor_images():
    """Given the true camera, and better with it than with the default field of view assumed."""
    known = _rel(ASSETS / "depthgen", 2, known_camera=True)
    assumed = _rel(ASSETS / "depthgen", 2)
    assert known < DEPTHGEN_REL and assumed < DEPTHGEN_DEFAULT_CAMERA_REL and known < assumed - 0.02


def test_shipped_regression_baseline_accuracy():
    assert _rel(ASSETS / "regression", 1) < REGRESSION_REL


def test_shipped_models_reach_the_outdoor_range():
    assert _rel(ASSETS / "depthgen", 2, "outdoor", known_camera=True) < DEPTHGEN_OUTDOOR_REL
    assert _rel(ASSETS / "regression", 1, "outdoor") < REGRESSION_OUTDOOR_REL


def test_shipped_depthgen_completion_keeps_known_pixels():
    from depthgen import DepthGenPipeline

    pipe = DepthGenPipeline.from_pretrained(ASSETS / "depthgen")
    item = _test_images(1)[0]
    depth = np.asarray(item["depth"], np.float32)
    known = np.zeros(depth.shape, bool)
    known[:, : depth.shape[1] // 2] = True
    out = pipe.complete(item["rgb"], np.where(known, depth, 0.0), known, num_samples=2, num_inference_steps=5,
                        generator=_g(0))
    full = np.asarray(out.depth)
    assert np.array_equal(full[known], depth[known])
    assert np.isfinite(full).all() and (full[~known] > 0).all()


def test_shipped_text_to_image_loads_offline_and_is_seeded(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from text3d.models.t2i.pipeline import TextToImagePipeline

    pipe = TextToImagePipeline.from_pretrained(ASSETS / "t2i")
    a = pipe("a cozy library", num_inference_steps=8, generator=_g(0))[0]
    b = pipe("a cozy library", num_inference_steps=8, generator=_g(0))[0]
    c = pipe("a cozy library", num_inference_steps=8, generator=_g(1))[0]
    d = pipe("a snowy forest", num_inference_steps=8, generator=_g(0))[0]
    assert a.shape == (64, 64, 3) and np.array_equal(a, b)
    assert np.abs(a - c).mean() > 0.02 and np.abs(a - d).mean() > 0.02
    assert 0.05 < a.std() and 0.0 <= a.min() and a.max() <= 1.0


def test_shipped_text_to_image_retrieves_layouts_of_the_prompted_scene():
    """The shipped bank starts sampling from scenes of the prompt's type (retrieval alone picked the
    prompted type for 92.9% of the development prompts' images); the UNet alone sees each prompt only."""
    from text3d.models.t2i.pipeline import TextToImagePipeline

    pipe = TextToImagePipeline.from_pretrained(ASSETS / "t2i")
    assert pipe.layout_bank is not None and pipe.config.layout_strength < 1
    hits = 0
    for prompt, scene in (("a misty woodland", "forest"), ("a tiled washroom with a tub", "bathroom"),
                          ("a cozy library", "library"), ("waves rolling onto golden sand", "beach")):
        picks = pipe.sample(prompt, num_inference_steps=4, generator=[_g(s) for s in range(4)],
                            num_images_per_prompt=4).layouts
        hits += sum(pipe.layout_bank.scene_types[j] == scene for j in picks)
    assert hits >= 13  # of 16; measured 16
