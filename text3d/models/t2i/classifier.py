"""A small scene-type classifier used to check that generated images show the prompted kind of scene.

Trained on procedural renders (never on generated images) with their ``scene_type`` labels, then applied to
images from the text-to-image model (``text3d.models.t2i.evaluate``). A 4-stage strided CNN (width 32) with global
average pooling. Measured on procedural test renders (64x64, 14 scene types), width 32, 20 epochs, scored on
1000 further renders neither run trained on: 2000 renders reached 83.9% (98.6% on its own training images:
it was short of data), 8000 renders 93.6% (trained in 160 s and 523 s on one shared core); the bench uses
8000. Most remaining mistakes are between rooms with similar walls (dining room / bedroom / living room /
kitchen). Augmentations (flips, brightness/contrast jitter, a blur now and then) make it less sensitive to
the softer look of diffusion samples. Everything random takes a seed.

Saved as a folder: ``model.safetensors`` + ``classifier.json`` (classes, width, image size, accuracies).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from depthgen.data.procedural import generate_sample, split_seed
from depthgen.common.io import atomic_dir


class SceneClassifier(nn.Module):
    """(B, 3, H, W) float in [-1, 1] -> (B, num_classes) logits."""

    def __init__(self, num_classes: int, width: int = 32):
        super().__init__()
        chans = [3, width, 2 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GroupNorm(4, cout), nn.SiLU(),
                       nn.Conv2d(cout, cout, 3, padding=1), nn.GroupNorm(4, cout), nn.SiLU()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(chans[-1], num_classes)
        self.num_classes, self.width = num_classes, width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))  # (B, C, h, w) -> (B, C) -> logits


@dataclass
class TrainedClassifier:
    model: SceneClassifier
    classes: list[str]
    size: int  # square input size (pixels); images are resized to it
    val_accuracy: float | None = None  # on the held-out part of the training renders
    train_accuracy: float | None = None
    history: list[float] = field(default_factory=list)  # mean training loss per epoch
    recipe: dict = field(default_factory=dict)  # how it was trained: num_images, epochs, width, ... (saved)

    def predict_proba(self, images: np.ndarray | Sequence[np.ndarray], batch_size: int = 128) -> np.ndarray:
        """images (N, H, W, 3) uint8 or float [0, 1] -> (N, num_classes) float32 probabilities."""
        x = to_tensor(images, self.size)
        self.model.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                out.append(torch.softmax(self.model(x[i:i + batch_size]), dim=1))
        return torch.cat(out).numpy().astype(np.float32)

    def predict(self, images) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(images).argmax(1)]

    def save(self, path: str | Path) -> Path:
        from safetensors.torch import save_file

        out = Path(path)
        meta = dict(classes=self.classes, width=self.model.width, size=self.size, val_accuracy=self.val_accuracy,
                    train_accuracy=self.train_accuracy, history=self.history, recipe=self.recipe)
        with atomic_dir(out) as tmp:
            save_file({k: v.contiguous() for k, v in self.model.state_dict().items()}, str(tmp / "model.safetensors"))
            (tmp / "classifier.json").write_text(json.dumps(meta, indent=1))
        return out

    @classmethod
    def load(cls, path: str | Path) -> "TrainedClassifier":
        from safetensors.torch import load_file

        p = Path(path)
        if not (p / "classifier.json").is_file():
            raise ValueError(f"{p} is not a saved scene classifier (no classifier.json)")
        meta = json.loads((p / "classifier.json").read_text())
        model = SceneClassifier(len(meta["classes"]), meta["width"])
        model.load_state_dict(load_file(str(p / "model.safetensors")))
        return cls(model.eval(), list(meta["classes"]), int(meta["size"]), meta.get("val_accuracy"),
                   meta.get("train_accuracy"), list(meta.get("history", [])), dict(meta.get("recipe") or {}))


def to_tensor(images: np.ndarray | Sequence[np.ndarray], size: int) -> torch.Tensor:
    """(N, H, W, 3) uint8 / float [0, 1] -> (N, 3, size, size) float32 in [-1, 1]."""
    a = np.stack([np.asarray(im) for im in images]) if not isinstance(images, np.ndarray) else images
    if a.ndim != 4 or a.shape[-1] != 3:
        raise ValueError(f"images must be (N, H, W, 3), got shape {a.shape}")
    x = torch.from_numpy(np.ascontiguousarray(a)).float()
    if a.dtype == np.uint8:
        x = x / 255.0
    x = x.permute(0, 3, 1, 2) * 2.0 - 1.0
    if x.shape[-2:] != (size, size):
        x = nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random flips, brightness/contrast jitter and a 3x3 blur on ~1/3 of the batch. x (B, 3, H, W) [-1, 1]."""
    b = x.shape[0]
    flip = torch.rand(b, generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    contrast = 1.0 + 0.3 * (torch.rand(b, 1, 1, 1, generator=g) - 0.5)
    bright = 0.2 * (torch.rand(b, 1, 1, 1, generator=g) - 0.5)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * contrast + mean + bright
    blur = torch.rand(b, generator=g) < 1 / 3
    soft = nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    return torch.where(blur[:, None, None, None], soft, x).clamp(-1, 1)


def train_classifier(images: np.ndarray, labels: Sequence[str], *, epochs: int = 20, batch_size: int = 64,
                     lr: float = 3e-3, val_fraction: float = 0.2, width: int = 32, seed: int = 0,
                     progress: bool = False) -> TrainedClassifier:
    """Train on images (N, H, W, 3) uint8 / float [0, 1] with string labels; a seeded hold-out measures accuracy."""
    labels = [str(s) for s in labels]
    if len(labels) != len(images):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"need at least two scene types to train a classifier, got {classes}")
    size = int(images[0].shape[0])
    x = to_tensor(images, size)
    y = torch.tensor([classes.index(s) for s in labels])
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(y), generator=g)
    n_val = int(round(val_fraction * len(y)))
    val, tr = order[:n_val], order[n_val:]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SceneClassifier(len(classes), width)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * max(1, -(-len(tr) // batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    history = []
    epoch_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc="classifier")
    for _ in epoch_iter:
        model.train()
        perm = tr[torch.randperm(len(tr), generator=g)]
        total = 0.0
        for i in range(0, len(perm), batch_size):
            idx = perm[i:i + batch_size]
            loss = nn.functional.cross_entropy(model(_augment(x[idx], g)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / max(1, len(perm)))
    model.eval()
    result = TrainedClassifier(model, classes, size, history=history,
                               recipe=dict(num_images=len(y), epochs=epochs, batch_size=batch_size, lr=lr,
                                           val_fraction=val_fraction, width=width, seed=seed))

    def accuracy(idx: torch.Tensor) -> float | None:
        if len(idx) == 0:
            return None
        probs = result.predict_proba(x[idx].permute(0, 2, 3, 1).add(1).div(2).numpy())
        return float((probs.argmax(1) == y[idx].numpy()).mean())

    result.val_accuracy, result.train_accuracy = accuracy(val), accuracy(tr)
    return result


def procedural_renders(n: int, split: str = "test", size: int = 64, start: int = 0, progress: bool = False,
                       pitch_offsets_deg: Sequence[float] = (0.0,)) -> tuple[np.ndarray, list[str], list[int]]:
    """Procedural renders of ``split``'s indices start..start+n-1: (N, size, size, 3) uint8, scene types, and
    the indices the generator failed on (skipped; N = n - len(failed)). Index i's camera is tilted by
    ``pitch_offsets_deg[i % len(pitch_offsets_deg)]`` degrees from the one the engine draws (positive up), so
    that e.g. (0, 30, -30) gives level views and views tilted as text3d's clean-up views, a third each."""
    offsets = [float(p) for p in pitch_offsets_deg]
    if not offsets:
        raise ValueError("pitch_offsets_deg needs at least one value (0 = the engine's own camera)")
    it = range(start, start + n)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"rendering {split}")
    images, labels, failed = [], [], []
    for i in it:
        try:
            s = generate_sample(split_seed(split, i), size=(size, size), sensor=None,
                                pitch_offset_deg=offsets[i % len(offsets)])
        except ValueError:  # a grammar failure on this seed: leave it out, report it
            failed.append(i)
            continue
        images.append(np.asarray(s["rgb"], np.uint8))
        labels.append(str(s["scene_type"]))
    return np.stack(images), labels, failed
