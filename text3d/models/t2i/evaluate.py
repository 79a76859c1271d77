"""Prompt alignment and diversity of the text-to-image model (pure functions + one driver).

- alignment: the scene classifier (``text3d.models.t2i.classifier``, trained on procedural renders) labels each
  generated image; the score is the fraction of images whose top class is the prompted scene type
  (``alignment_top3``: the prompted type is among the classifier's three most likely classes).
- diversity: mean pairwise pixel distance, the mean absolute difference per pixel and channel of two
  (H, W, 3) float [0, 1] images (0 = identical, 1 = black vs white), averaged over image pairs of the same
  prompt (different seeds; "within") and over pairs of images of different prompts ("between"). A model
  that ignores the seed has within = 0; one that ignores the prompt has within ~= between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch


@dataclass
class PromptSpec:
    prompt: str
    scene_type: str


def pairwise_distance(images: np.ndarray) -> np.ndarray:
    """images (N, H, W, 3) float [0, 1] -> (N, N) float64 mean absolute pixel differences."""
    flat = images.reshape(len(images), -1).astype(np.float64)
    out = np.zeros((len(flat), len(flat)))
    for i in range(len(flat)):
        out[i] = np.abs(flat - flat[i]).mean(axis=1)
    return out


def diversity(images: np.ndarray, groups: Sequence[int]) -> dict[str, float]:
    """images (N, H, W, 3) float [0, 1]; groups (N,) prompt index of each image -> {"within", "between"}."""
    d = pairwise_distance(images)
    g = np.asarray(groups)
    same = g[:, None] == g[None, :]
    off = ~np.eye(len(g), dtype=bool)
    within = d[same & off]
    between = d[~same]
    return {"within": float(within.mean()) if within.size else float("nan"),
            "between": float(between.mean()) if between.size else float("nan")}


def alignment(predicted: Sequence[str], targets: Sequence[str]) -> float:
    """Fraction of images whose predicted scene type equals the prompted one."""
    if len(predicted) != len(targets) or not len(targets):
        raise ValueError("alignment needs one prediction per target (and at least one)")
    return float(np.mean([p == t for p, t in zip(predicted, targets)]))


def image_grid(rows: Sequence[Sequence[np.ndarray]], labels: Sequence[str], scale: int = 2,
               label_width: int = 260) -> np.ndarray:
    """Rows of (H, W, 3) float [0, 1] images with a text label on the left -> (H', W', 3) uint8."""
    from PIL import Image, ImageDraw

    h, w = rows[0][0].shape[:2]
    cols = max(len(r) for r in rows)
    th, tw, pad = h * scale, w * scale, 2
    canvas = Image.new("RGB", (label_width + cols * (tw + pad), len(rows) * (th + pad)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (row, label) in enumerate(zip(rows, labels)):
        y = r * (th + pad)
        draw.text((4, y + th // 2 - 6), label[:42], fill="black")
        for c, im in enumerate(row):
            tile = Image.fromarray((np.clip(im, 0, 1) * 255).round().astype(np.uint8)).resize((tw, th), Image.NEAREST)
            canvas.paste(tile, (label_width + c * (tw + pad), y))
    return np.asarray(canvas)


def generate_set(pipe, prompts: Sequence[str], seeds: Sequence[int], steps: int = 25,
                 guidance_scale: float | None = None,
                 scheduler: str = "ddim", layout_strength: float | None = None) -> tuple[np.ndarray, list]:
    """Images for every (prompt, seed), prompt-major: (len(prompts) * len(seeds), H, W, 3) float32, and the
    layout-bank index each started from (None for images sampled from pure noise).

    Seed s uses ``torch.Generator().manual_seed(s)`` whatever the batch, so any image can be regenerated alone.
    ``guidance_scale`` None: the pipeline's saved default.
    """
    out, layouts = [], []
    emb = pipe.encode_prompts(list(prompts))  # encode all prompts once
    for i in range(len(prompts)):
        gens = [torch.Generator("cpu").manual_seed(int(s)) for s in seeds]
        result = pipe.sample([prompts[i]], num_inference_steps=steps, guidance_scale=guidance_scale, generator=gens,
                             scheduler=scheduler, num_images_per_prompt=len(seeds), text_embeddings=emb[i:i + 1],
                             layout_strength=layout_strength)
        out += result.images
        layouts += list(result.layouts) if result.layouts is not None else [None] * len(seeds)
    return np.stack(out), layouts


def evaluate(pipe, classifier, specs: Sequence[PromptSpec], seeds: Sequence[int], steps: int = 25,
             guidance_scale: float | None = None, scheduler: str = "ddim",
             layout_strength: float | None = None) -> tuple[dict, np.ndarray]:
    """Alignment and diversity of ``pipe`` over ``specs`` x ``seeds``; returns (report dict, images).

    With retrieved layouts (``layout_strength`` < 1) the report also gives ``layout_alignment``: the share
    of images whose starting layout came from a scene of the prompted type (what retrieval alone gives).
    """
    unknown = sorted({s.scene_type for s in specs} - set(classifier.classes))
    if unknown:
        raise ValueError(f"prompted scene type(s) {unknown} are not classifier classes {classifier.classes}; fix the prompt file")
    images, layouts = generate_set(pipe, [s.prompt for s in specs], seeds, steps, guidance_scale, scheduler,
                                   layout_strength)
    probs = classifier.predict_proba(images)  # (N, C)
    predicted = [classifier.classes[i] for i in probs.argmax(1)]
    targets = [s.scene_type for s in specs for _ in seeds]
    top3 = np.argsort(-probs, axis=1)[:, :3]
    in_top3 = [classifier.classes.index(t) in row for t, row in zip(targets, top3)]
    groups = [i for i in range(len(specs)) for _ in seeds]
    per_prompt = []
    for i, s in enumerate(specs):
        sel = predicted[i * len(seeds):(i + 1) * len(seeds)]
        per_prompt.append({"prompt": s.prompt, "scene_type": s.scene_type,
                           "aligned": alignment(sel, [s.scene_type] * len(sel)),
                           "predicted": {c: sel.count(c) for c in sorted(set(sel))}})
    report = {"alignment": alignment(predicted, targets), "alignment_top3": float(np.mean(in_top3)),
              "diversity": diversity(images, groups),
              "per_prompt": per_prompt, "n_prompts": len(specs), "seeds": list(map(int, seeds)), "steps": steps,
              "guidance_scale": float(pipe.config.guidance_scale if guidance_scale is None else guidance_scale),
              "scheduler": scheduler,
              "layout_strength": float(pipe.config.layout_strength if layout_strength is None else layout_strength)}
    bank = getattr(pipe, "layout_bank", None)
    if bank is not None and bank.scene_types and all(j is not None for j in layouts):
        report["layout_alignment"] = alignment([bank.scene_types[j] for j in layouts], targets)
        report["layout_size"] = int(bank.layouts.shape[-1])
    return report, images
