"""Encode a captioned image set into a latent cache for the latent image models.

    python -m text3d.models.autoencoder.encode --data data/procedural/train-256 --out data/latents/train-256.safetensors \
        [--autoencoder assets/autoencoder] [--max-samples N] [--batch 16]

The cache is one safetensors file: ``latents`` (N, C, h, w) float16, the autoencoder's raw latents of each image;
``latents_mean`` / ``latents_std`` (C,) float32, the per-channel statistics the diffusion models normalise by;
and the captions of every image as JSON in the metadata. Encoding is the costly part (about 0.6 s per 256-px image
on one CPU thread), so it is done once; a run that stops keeps nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from depthgen.common.io import atomic_path
from text3d.models.autoencoder.model import TinyAutoencoder


def encode_images(autoencoder: TinyAutoencoder, images: Iterable[np.ndarray], batch: int = 16) -> torch.Tensor:
    """(H, W, 3) uint8 images -> (N, C, H/8, W/8) float16 latents, encoded ``batch`` at a time."""
    out, pending = [], []

    def flush() -> None:
        x = torch.from_numpy(np.stack(pending)).permute(0, 3, 1, 2).float() / 255.0
        with torch.no_grad():
            out.append(autoencoder.encode(x).to(torch.float16))
        pending.clear()

    for im in images:
        pending.append(np.asarray(im, dtype=np.uint8))
        if len(pending) == batch:
            flush()
    if pending:
        flush()
    if not out:
        raise ValueError("no images to encode")
    return torch.cat(out)


def channel_statistics(latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation (C,) float32 of latents (N, C, h, w)."""
    z = latents.float().transpose(0, 1).reshape(latents.shape[1], -1)
    return z.mean(1), z.std(1).clamp_min(1e-6)


def write_cache(path: Path, latents: torch.Tensor, captions: list[list[str]]) -> Path:
    from safetensors.torch import save_file

    mean, std = channel_statistics(latents)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_file({"latents": latents.contiguous(), "latents_mean": mean, "latents_std": std}, str(tmp),
                  metadata={"captions": json.dumps(captions)})
    return path


def read_cache(path: str | Path) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[list[str]]]:
    """(latents (N, C, h, w) float16, mean (C,), std (C,), captions per image) of a cache file."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"latent cache {path} not found; write it with python -m text3d.models.autoencoder.encode")
    with safe_open(str(path), framework="pt") as f:
        captions = json.loads((f.metadata() or {}).get("captions", "[]"))
        tensors = {k: f.get_tensor(k) for k in ("latents", "latents_mean", "latents_std")}
    if len(captions) != tensors["latents"].shape[0]:
        raise ValueError(f"{path}: {len(captions)} caption lists for {tensors['latents'].shape[0]} latents")
    return tensors["latents"], tensors["latents_mean"], tensors["latents_std"], captions


def read_statistics(path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-channel latent mean and standard deviation (C,) of a cache file, without its latents."""
    from safetensors import safe_open

    if not Path(path).is_file():
        raise ValueError(f"latent cache {path} not found; write it with python -m text3d.models.autoencoder.encode")
    with safe_open(str(path), framework="pt") as f:
        return f.get_tensor("latents_mean"), f.get_tensor("latents_std")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="procedural shard folder (python -m depthgen.data.procedural)")
    ap.add_argument("--out", required=True, type=Path, help="cache file to write (.safetensors)")
    ap.add_argument("--autoencoder", default="assets/autoencoder")
    ap.add_argument("--max-samples", type=int, default=0, help="encode only the first N images (0 = all)")
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args(argv)
    from tqdm.auto import tqdm

    from depthgen.data.procedural import ShardDataset
    from text3d.models.t2i.data import captions_of

    try:
        if not Path(args.data).is_dir():
            raise ValueError(f"--data {args.data} is not a folder")
        ds = ShardDataset(args.data, max_cached=1)
        n = len(ds) if args.max_samples <= 0 else min(len(ds), args.max_samples)
        ae = TinyAutoencoder.from_pretrained(args.autoencoder).eval()
        captions: list[list[str]] = []

        def images():
            for i in tqdm(range(n), desc="encoding", mininterval=30):
                s = ds[i]
                captions.append(captions_of(s))
                yield s["rgb"]

        latents = encode_images(ae, images(), args.batch)
        write_cache(args.out, latents, captions)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {latents.shape[0]} latents {tuple(latents.shape[1:])} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
