"""How real and how prompt-driven generated images are (pure functions + the true renders to compare with).

- **Two-sample test** (a classifier two-sample test, C2ST): a small CNN (``classifier.train_classifier``) learns to
  tell generated images from true procedural renders of the same scene types; its accuracy on a held-out fifth is
  the score. 0.5 means the two sets cannot be told apart; 1.0 means every image gives itself away. The mean over a
  few hold-out draws is reported, since one hold-out of a few hundred images is noisy (about +-0.05).
- **Prompt sensitivity**: at one seed, the mean distance between images of different prompts, over the mean
  distance between images of one prompt at different seeds (distances: ``evaluate.pairwise_distance``). Below 1
  the seed decides the picture more than the prompt does. For true renders, "prompt" is the scene type and
  "seed" the render index.

Both compare images at one size (``COMPARE_SIZE``, resized with antialiasing), so that a 64-px pixel model and a
256-px latent model are judged alike.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from text3d.models.t2i.classifier import procedural_renders, to_tensor, train_classifier
from text3d.models.t2i.evaluate import pairwise_distance

COMPARE_SIZE = 64


def resized(images: np.ndarray | Sequence[np.ndarray], size: int = COMPARE_SIZE) -> np.ndarray:
    """(N, H, W, 3) float [0, 1] or uint8 -> (N, size, size, 3) float32 [0, 1], resized as the classifiers see
    images (``classifier.to_tensor``: antialiased bilinear)."""
    return ((to_tensor(images, size) + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1).numpy()


def two_sample_accuracy(generated: np.ndarray, real: np.ndarray, *, draws: int = 3, epochs: int = 15,
                        size: int = COMPARE_SIZE) -> dict:
    """Held-out accuracy of a classifier telling ``generated`` from ``real`` (both (N, H, W, 3) [0, 1] / uint8).

    Returns {"accuracy": mean over ``draws`` hold-outs (seeds 0..draws-1), "per_draw": [...], "n_generated",
    "n_real", "size"}. Equal set sizes keep 0.5 the chance level.
    """
    if len(generated) < 10 or len(real) < 10:
        raise ValueError(f"a two-sample test needs at least 10 images per set, got {len(generated)} and {len(real)}")
    n = min(len(generated), len(real))
    images = np.concatenate([resized(generated[:n], size), resized(real[:n], size)])
    labels = ["generated"] * n + ["real"] * n
    per_draw = [float(train_classifier(images, labels, epochs=epochs, seed=s).val_accuracy) for s in range(draws)]
    return {"accuracy": float(np.mean(per_draw)), "per_draw": per_draw, "n_generated": n, "n_real": n, "size": size}


def prompt_sensitivity(images: np.ndarray, prompt_ids: Sequence[int], seed_ids: Sequence[int],
                       size: int = COMPARE_SIZE) -> float:
    """Mean distance between different prompts at one seed / mean distance between seeds of one prompt.

    images (N, H, W, 3); prompt_ids, seed_ids (N,) ints. Needs two prompts sharing a seed and two seeds of a prompt.
    """
    d = pairwise_distance(resized(images, size))
    p, s = np.asarray(prompt_ids), np.asarray(seed_ids)
    off = ~np.eye(len(p), dtype=bool)
    across_prompts = d[(p[:, None] != p[None, :]) & (s[:, None] == s[None, :])]
    across_seeds = d[(p[:, None] == p[None, :]) & (s[:, None] != s[None, :]) & off]
    if not across_prompts.size or not across_seeds.size:
        raise ValueError("prompt sensitivity needs two prompts at one seed and two seeds of one prompt")
    return float(across_prompts.mean() / across_seeds.mean())


def true_renders(scene_types: Sequence[str], per_type: int, size: int = COMPARE_SIZE, split: str = "test",
                 max_renders: int = 4000, chunk: int = 200) -> tuple[np.ndarray, list[str]]:
    """``per_type`` procedural renders of ``split`` for each scene type in ``scene_types`` (in that order, each
    type once), taken in index order: (len(types) * per_type, size, size, 3) uint8 and their types.

    Renders chunks of indices until every type has enough; ValueError if ``max_renders`` indices do not suffice.
    """
    wanted = list(dict.fromkeys(scene_types))
    found: dict[str, list[np.ndarray]] = {t: [] for t in wanted}
    start = 0
    while any(len(v) < per_type for v in found.values()):
        if start >= max_renders:
            short = {t: len(v) for t, v in found.items() if len(v) < per_type}
            raise ValueError(f"{max_renders} {split} renders hold too few of {short}; raise max_renders")
        images, labels, _ = procedural_renders(chunk, split, size=size, start=start)
        for im, t in zip(images, labels):
            if t in found and len(found[t]) < per_type:
                found[t].append(im)
        start += chunk
    return np.stack([im for t in wanted for im in found[t]]), [t for t in wanted for _ in range(per_type)]
