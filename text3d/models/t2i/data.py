"""Training data for the text-to-image model: captioned images held in memory, and cached caption embeddings.

At 64x64 a whole training set fits in RAM as uint8 (20k images = 246 MB), so it is read once; batches are then
drawn by index with a ``torch.Generator`` (sampling with replacement), which makes a resumed run replay
exactly the same batches. Caption embeddings are computed once with the frozen encoder and cached in a
safetensors file (the encoder is slow on CPU next to the tiny UNet).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from depthgen.data.procedural import ShardDataset
from depthgen.common.io import atomic_path
from text3d.models.t2i.config import T2IDataConfig

SYNTHETIC_COLOURS = {"red": (0.85, 0.15, 0.1), "green": (0.15, 0.7, 0.2), "blue": (0.15, 0.3, 0.9),
                     "yellow": (0.95, 0.85, 0.15)}


@dataclass
class CaptionedImages:
    """images: (N, 3, H, W) uint8 pixels, or (N, C, h, w) float16 autoencoder latents with their per-channel
    ``latents_mean`` / ``latents_std`` (C,); captions: N lists of one or more captions (str) per image."""

    images: torch.Tensor
    captions: list[list[str]]
    latents_mean: torch.Tensor | None = None
    latents_std: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def model_space(self, idx: torch.Tensor) -> torch.Tensor:
        """The diffusion model's x0 of items ``idx``: pixels in [-1, 1], or latents normalised per channel."""
        x = self.images[idx].float()
        if self.latents_mean is None:
            return x / 127.5 - 1.0
        return (x - self.latents_mean[:, None, None]) / self.latents_std[:, None, None]


def _to_chw_uint8(rgb) -> np.ndarray:
    """(H, W, 3) uint8 / float [0, 1] array or (3, H, W) tensor -> (3, H, W) uint8."""
    a = rgb.detach().cpu().numpy() if isinstance(rgb, torch.Tensor) else np.asarray(rgb)
    if a.ndim == 3 and a.shape[-1] != 3 and a.shape[0] == 3:
        a = a.transpose(1, 2, 0)
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"a training image must be (H, W, 3), got shape {a.shape}")
    if a.dtype != np.uint8:
        a = np.clip(np.round(a.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a.transpose(2, 0, 1))


def captions_of(sample: dict) -> list[str]:
    caps = sample.get("captions")
    if caps is None or len(caps) == 0:
        caps = [sample["caption"]]
    return [str(c) for c in caps]


def from_samples(samples: Sequence[dict], size: int, max_captions: int = 0) -> CaptionedImages:
    """Gather dict samples with ``rgb`` and ``caption`` (or ``captions``) into memory; images must be size x size.

    max_captions: keep at most this many captions per image (the first ones; 0 keeps all).
    """
    images, captions = [], []
    for s in samples:
        img = _to_chw_uint8(s["rgb"])
        if img.shape[1:] != (size, size):
            raise ValueError(f"training images must be {size}x{size} (model.sample_size), got {img.shape[2]}x{img.shape[1]}")
        images.append(torch.from_numpy(img))
        caps = captions_of(s)
        captions.append(caps[:max_captions] if max_captions > 0 else caps)
    if not images:
        raise ValueError("the training set is empty; check data.path")
    return CaptionedImages(torch.stack(images), captions)


def synthetic_samples(n: int, size: int, seed: int = 0) -> list[dict]:
    """A toy set: a wall of one of four colours over a grey floor, with pixel noise; caption names the colour."""
    rng = np.random.default_rng(seed)
    names = list(SYNTHETIC_COLOURS)
    out = []
    for i in range(n):
        name = names[i % len(names)]
        img = np.empty((size, size, 3), np.float32)
        horizon = int(size * rng.uniform(0.5, 0.7))
        img[:horizon] = SYNTHETIC_COLOURS[name]
        img[horizon:] = 0.5
        img += rng.normal(0.0, 0.03, img.shape).astype(np.float32)
        out.append({"rgb": np.clip(img, 0, 1), "captions": [f"a {name} room", f"a room with {name} walls"]})
    return out


def load_training_data(cfg: T2IDataConfig, size: int, seed: int = 0) -> CaptionedImages:
    """The configured training set in memory (``procedural_shards`` via ``ShardDataset``, or ``synthetic``)."""
    if cfg.kind == "synthetic":
        return from_samples(synthetic_samples(cfg.synthetic_size, size, seed), size, cfg.max_captions)
    if cfg.kind == "latents":
        return load_latents(cfg, size)
    path = Path(cfg.path)
    if not path.is_dir():
        raise ValueError(f"data.path {path} is not a folder; write shards with "
                         f"python -m depthgen.data.procedural --out {path} --n N --size {size}x{size} --split train")
    from tqdm.auto import tqdm

    ds = ShardDataset(str(path), max_cached=1)  # read sequentially: one shard in memory at a time
    n = len(ds) if cfg.max_samples <= 0 else min(len(ds), cfg.max_samples)
    return from_samples((ds[i] for i in tqdm(range(n), desc="loading shards", leave=False)), size, cfg.max_captions)


def load_latents(cfg: T2IDataConfig, size: int) -> CaptionedImages:
    """A latent cache (``text3d.models.autoencoder.encode``) in memory; its latents must be size x size."""
    from text3d.models.autoencoder.encode import read_cache

    latents, mean, std, captions = read_cache(cfg.path)
    if tuple(latents.shape[-2:]) != (size, size):
        raise ValueError(f"{cfg.path} holds {latents.shape[-1]}x{latents.shape[-2]} latents; model.sample_size is {size}")
    n = len(captions) if cfg.max_samples <= 0 else min(len(captions), cfg.max_samples)
    captions = [c[:cfg.max_captions] if cfg.max_captions > 0 else c for c in captions[:n]]
    return CaptionedImages(latents[:n], captions, mean, std)


class CaptionBank:
    """Unique captions and their embeddings; ``ids[i]`` lists the caption rows of image ``i``.

    embeddings: (U, 384) float32 unit vectors.
    """

    def __init__(self, captions: list[str], embeddings: torch.Tensor, ids: list[list[int]]):
        self.captions, self.embeddings, self.ids = captions, embeddings, ids

    @classmethod
    def build(cls, per_image: list[list[str]], encoder, cache: str | Path | None = None) -> "CaptionBank":
        """Encode every distinct caption once, reusing (and extending) the safetensors cache file if given."""
        unique = sorted({c for caps in per_image for c in caps})
        known: dict[str, torch.Tensor] = {}
        cache = Path(cache) if cache else None
        if cache is not None and cache.is_file():
            known = _read_cache(cache, encoder.name)
        missing = [c for c in unique if c not in known]
        if missing:
            for c, e in zip(missing, encoder.encode(missing, progress=len(missing) > 1000)):
                known[c] = e
            if cache is not None:
                _write_cache(cache, known, encoder.name)
        emb = torch.stack([known[c] for c in unique]).float()  # (U, 384)
        row = {c: i for i, c in enumerate(unique)}
        return cls(unique, emb, [[row[c] for c in caps] for caps in per_image])


def _read_cache(path: Path, encoder_name: str) -> dict[str, torch.Tensor]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        if meta.get("encoder") != encoder_name:
            return {}
        emb = f.get_tensor("embeddings")
    return dict(zip(json.loads(meta["captions"]), emb))


def _write_cache(path: Path, known: dict[str, torch.Tensor], encoder_name: str) -> None:
    from safetensors.torch import save_file

    caps = sorted(known)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_file({"embeddings": torch.stack([known[c] for c in caps]).contiguous()}, str(tmp),
                  metadata={"encoder": encoder_name, "captions": json.dumps(caps)})


def sample_batch(data: CaptionedImages, bank: CaptionBank, batch_size: int, generator: torch.Generator,
                 hflip: bool = True, text_dropout: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw a batch with ``generator``: x0 (B, C, H, W) float32 (``CaptionedImages.model_space``) and text (B, 384).

    Each image takes one of its captions at random; with probability ``text_dropout`` the caption is
    replaced by the null (zero) embedding, for classifier-free guidance.
    """
    idx = torch.randint(0, len(data), (batch_size,), generator=generator)
    x0 = data.model_space(idx)  # (B, C, H, W)
    if hflip:
        flip = torch.rand(batch_size, generator=generator) < 0.5
        x0 = torch.where(flip[:, None, None, None], x0.flip(-1), x0)
    pick = torch.rand(batch_size, generator=generator)
    rows = [bank.ids[i][min(int(p * len(bank.ids[i])), len(bank.ids[i]) - 1)] for i, p in zip(idx.tolist(), pick.tolist())]
    text = bank.embeddings[rows].clone()  # (B, 384)
    drop = torch.rand(batch_size, generator=generator) < text_dropout
    text[drop] = 0.0
    return x0, text
