"""Coarse scene layouts looked up by caption similarity: the starting point of retrieval-augmented sampling.

Why: the embedded UNet (3.5M parameters, ~4-5k CPU training steps) turned a sentence embedding into the
prompted scene type in only 28-36% of images when it started from pure noise: it has learnt colours and a
horizon per prompt, not rooms. The sentence encoder, though, finds training captions of the right scene type
for unseen prompts. So the pipeline can start from a training scene instead of from noise: it takes the
``top_k`` bank entries whose captions are nearest the prompt, picks one with the generator, upsamples that
low-resolution layout (16x16 by default: colours and where walls, floor and sky are, no detail), noises it
to the ``layout_strength`` point of the schedule and runs the rest of the guided sampler (SDEdit-style
img2img, as in retrieval-augmented diffusion). The bank is small (16x16 uint8 layouts plus float16
embeddings) and is saved beside the UNet as ``layout_bank.safetensors``.

Build one for a trained pipeline:

    python -m text3d.models.t2i.layout_bank --pipeline assets/t2i --data data/procedural/train-64 --n 4000 --strength 0.5

``--strength`` also saves the pipeline's default ``layout_strength`` (in its ``model_index.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from depthgen.data.procedural import ShardDataset
from depthgen.common.io import read_safetensors, write_safetensors
from text3d.models.loading import replace_card_section, save_default, saved_index
from text3d.models.t2i.data import CaptionBank, from_samples
from text3d.models.t2i.text_encoder import load_text_encoder

BANK_FILE = "layout_bank.safetensors"


def check_strength(value) -> float:
    """``layout_strength`` as a float in (0, 1]; anything else is a ValueError saying what is allowed."""
    v = float(value)
    if not 0 < v <= 1:
        raise ValueError(f"layout_strength must be in (0, 1] (1 = start from pure noise), got {value}")
    return v


@dataclass
class LayoutBank:
    """layouts: (M, 3, r, r) uint8 RGB; embeddings: (M, D) float32 unit vectors (mean of each image's
    caption embeddings); top_k: how many nearest entries a pick draws from; scene_types / sources: per entry,
    for reports (the scene type and training-set index it came from)."""

    layouts: torch.Tensor
    embeddings: torch.Tensor
    top_k: int = 16
    scene_types: list[str] | None = None
    sources: list[int] | None = None

    def __post_init__(self):
        if self.layouts.ndim != 4 or self.layouts.shape[1] != 3 or self.layouts.dtype != torch.uint8:
            raise ValueError(f"layouts must be (M, 3, r, r) uint8, got {tuple(self.layouts.shape)} {self.layouts.dtype}")
        if self.embeddings.ndim != 2 or self.embeddings.shape[0] != self.layouts.shape[0]:
            raise ValueError(f"embeddings must be (M, D) with M = {self.layouts.shape[0]}, got {tuple(self.embeddings.shape)}")
        if len(self) == 0:
            raise ValueError("a layout bank needs at least one entry")
        if not 1 <= int(self.top_k) <= len(self):
            raise ValueError(f"top_k must be in 1..{len(self)} (the bank size), got {self.top_k}")
        self.top_k = int(self.top_k)
        self.embeddings = self.embeddings.float()

    def __len__(self) -> int:
        return int(self.layouts.shape[0])

    @classmethod
    def build(cls, images: torch.Tensor, embeddings: torch.Tensor, size: int = 16, top_k: int = 16,
              scene_types: Sequence[str] | None = None, sources: Sequence[int] | None = None) -> "LayoutBank":
        """images: (M, 3, H, W) uint8 training scenes; embeddings: (M, D) per-image text embeddings.
        Layouts are area-averaged down to ``size`` x ``size``."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be (M, 3, H, W), got {tuple(images.shape)}")
        if size < 1 or size > min(images.shape[2:]):
            raise ValueError(f"layout size must be in 1..{min(images.shape[2:])}, got {size}")
        small = torch.nn.functional.interpolate(images.float(), size=(size, size), mode="area")
        layouts = small.round().clamp(0, 255).to(torch.uint8)
        emb = torch.nn.functional.normalize(embeddings.float(), dim=-1)
        return cls(layouts, emb, top_k, list(scene_types) if scene_types is not None else None,
                   [int(s) for s in sources] if sources is not None else None)

    def save(self, folder: str | Path) -> Path:
        """Write ``folder/layout_bank.safetensors`` (via a temporary name, so no half-written bank)."""
        meta = {"top_k": str(self.top_k), "scene_types": json.dumps(self.scene_types),
                "sources": json.dumps(self.sources)}
        return write_safetensors(Path(folder) / BANK_FILE,
                                 {"layouts": self.layouts, "embeddings": self.embeddings.half()}, meta)

    @classmethod
    def load(cls, folder: str | Path) -> "LayoutBank | None":
        """The bank saved in ``folder``, or None if the folder has none."""
        saved = read_safetensors(Path(folder) / BANK_FILE)
        if saved is None:
            return None
        tensors, meta = saved
        return cls(tensors["layouts"], tensors["embeddings"], int(meta.get("top_k", 16)),
                   json.loads(meta.get("scene_types", "null")), json.loads(meta.get("sources", "null")))

    def pick(self, text: torch.Tensor, generators: Sequence[torch.Generator]) -> torch.Tensor:
        """text: (n, D) prompt embeddings -> (n,) long bank indices, one per generator.

        Each draws uniformly among the ``top_k`` entries of highest cosine similarity; a null (zero)
        embedding draws from the whole bank.
        """
        if text.ndim != 2 or text.shape[1] != self.embeddings.shape[1] or len(generators) != text.shape[0]:
            raise ValueError(f"need (n, {self.embeddings.shape[1]}) embeddings and n generators, got "
                             f"{tuple(text.shape)} and {len(generators)}")
        sims = text.float().cpu() @ self.embeddings.T  # (n, M)
        out = []
        for row, vec, g in zip(sims, text, generators):
            pool = torch.arange(len(self)) if not vec.abs().sum() else row.topk(self.top_k).indices
            j = torch.randint(0, len(pool), (1,), generator=g, device=g.device).item()
            out.append(int(pool[j]))
        return torch.tensor(out, dtype=torch.long)

    def images(self, indices: torch.Tensor, size: int) -> torch.Tensor:
        """(n,) indices -> (n, 3, size, size) float32 in [-1, 1], bilinearly upsampled layouts."""
        x = self.layouts[indices].float() / 127.5 - 1.0
        return torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def check_layout_transform(value) -> np.ndarray | None:
    """A ``layout_transform`` as a finite, invertible (3, 3) float64 homography, or None for a level view
    (None, or the identity up to scale: nothing to warp); anything else is a ValueError saying what is
    allowed."""
    if value is None:
        return None
    h = np.asarray(value, dtype=np.float64)
    if h.shape != (3, 3) or not np.isfinite(h).all() or abs(np.linalg.det(h)) < 1e-12:
        raise ValueError(f"layout_transform must be a finite, invertible 3x3 homography (or None), "
                         f"got shape {h.shape}")
    level = h[2, 2] != 0 and np.allclose(h / h[2, 2], np.eye(3), atol=1e-9)
    return None if level else h


def warp_layouts(layouts: torch.Tensor, transform: np.ndarray, image_hw: tuple[int, int]) -> torch.Tensor:
    """Layouts (n, 3, S, S) as a turned camera sees them: ``transform`` (3, 3) maps pixel coordinates of a
    level picture of ``image_hw`` (H, W) pixels (centres at +0.5, as text3d's K) to the view's. Scaled to the
    S x S layouts, then warped (bilinear); where the view looks past the layout's edge its border rows and
    columns continue (the floor below, the ceiling or sky above). Returns the same shape and dtype."""
    import cv2

    s = layouts.shape[-1]
    to_model = np.diag([s / image_hw[1], s / image_hw[0], 1.0])
    shift = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])  # cv2 puts pixel centres at integers
    h = np.linalg.inv(shift) @ to_model @ np.asarray(transform, np.float64) @ np.linalg.inv(to_model) @ shift
    arrays = layouts.detach().float().cpu().permute(0, 2, 3, 1).numpy()
    out = [cv2.warpPerspective(a, h, (s, s), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
           for a in arrays]
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).to(layouts.device, layouts.dtype)


def schedule_tail(sched, strength: float):
    """The last ``strength`` of ``sched``'s timesteps (at least one), the scheduler told where it begins:
    the steps img2img from a noised layout runs."""
    timesteps = sched.timesteps
    start = len(timesteps) - max(1, round(strength * len(timesteps)))
    if hasattr(sched, "set_begin_index"):
        sched.set_begin_index(start * getattr(sched, "order", 1))
    return timesteps[start:]


class LayoutBankMixin:
    """Loading, saving and the strength rule of a pipeline that may start sampling from a retrieved layout:
    it holds ``layout_bank`` (a ``LayoutBank`` or None; not a diffusers module, so saved and loaded here) and
    ``layout_strength`` in its config. List it before ``LocalPipeline`` among the bases."""

    layout_bank: "LayoutBank | None" = None

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """Load a saved folder and its layout bank, if it has one."""
        path = Path(pretrained_model_name_or_path)
        pipe = super().from_pretrained(path, **kwargs)
        pipe.layout_bank = LayoutBank.load(path)
        if pipe.config.layout_strength < 1 and pipe.layout_bank is None:
            raise ValueError(f"{path} sets layout_strength {pipe.config.layout_strength} but has no {path.name}/"
                             f"{BANK_FILE}; build one with python -m text3d.models.t2i.layout_bank")
        return pipe

    def save_pretrained(self, save_directory, **kwargs) -> None:
        """The diffusers folder, plus ``layout_bank.safetensors`` when the pipeline has a bank."""
        super().save_pretrained(save_directory, **kwargs)
        if self.layout_bank is not None:
            self.layout_bank.save(save_directory)

    def _layout_strength(self, layout_strength: float | None) -> float:
        """The checked layout strength of a call (None = the saved default); below 1 needs a layout bank."""
        strength = check_strength(self.config.layout_strength if layout_strength is None else layout_strength)
        if strength < 1 and self.layout_bank is None:
            raise ValueError(f"layout_strength {strength} needs a layout bank and this pipeline has none; "
                             "pass layout_strength=1 or build one with python -m text3d.models.t2i.layout_bank")
        return strength


def image_embeddings(per_image: list[list[str]], encoder) -> torch.Tensor:
    """(M, D) unit vectors: the mean of each image's caption embeddings (each caption encoded once)."""
    bank = CaptionBank.build(per_image, encoder)
    emb = torch.stack([bank.embeddings[ids].mean(0) for ids in bank.ids])
    return torch.nn.functional.normalize(emb, dim=-1)


def build_from_shards(data: str | Path, n: int, size: int = 16, top_k: int = 16, encoder=None) -> LayoutBank:
    """A bank of the first ``n`` scenes of a procedural shard folder, embedded with all their captions."""
    from tqdm.auto import tqdm

    path = Path(data)
    if not path.is_dir():
        raise ValueError(f"--data {path} is not a folder of procedural shards; write one with python -m depthgen.data.procedural")
    ds = ShardDataset(str(path), max_cached=1)
    if n < 1 or n > len(ds):
        raise ValueError(f"--n must be in 1..{len(ds)} (the scenes in {path}), got {n}")
    samples = [ds[i] for i in tqdm(range(n), desc="reading scenes", leave=False)]
    data = from_samples(samples, int(samples[0]["rgb"].shape[0]))  # every caption of each scene
    emb = image_embeddings(data.captions, encoder or load_text_encoder())
    types = [str(s.get("scene_type", "")) for s in samples]
    return LayoutBank.build(data.images, emb, size, top_k, types, list(range(n)))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m text3d.models.t2i.layout_bank", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pipeline", required=True, help="pipeline folder (text-to-image or text inpainting) to write layout_bank.safetensors into")
    ap.add_argument("--data", required=True, help="procedural shard folder (training split) to take the scenes from")
    ap.add_argument("--n", type=int, default=4000, help="scenes in the bank (default 4000)")
    ap.add_argument("--size", type=int, default=16, help="layout resolution in pixels (default 16)")
    ap.add_argument("--top-k", type=int, default=16, help="nearest entries a pick draws from (default 16)")
    ap.add_argument("--strength", type=float, default=None,
                    help="also save this as the pipeline's default layout_strength, in (0, 1]")
    args = ap.parse_args(argv)
    try:
        index = saved_index(args.pipeline)
        if args.strength is not None:
            check_strength(args.strength)
        bank = build_from_shards(args.data, args.n, args.size, args.top_k)
        path = bank.save(args.pipeline)
        if args.strength is not None:
            save_default(index, "layout_strength", args.strength)
        write_card_section(Path(args.pipeline), bank, args.data)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path}: {len(bank)} layouts of {args.size}x{args.size}, top_k {bank.top_k}"
          + (f"; default layout_strength {args.strength}" if args.strength is not None else ""))
    return 0


CARD_HEADING = "## Layout bank (retrieval-augmented sampling)"


def write_card_section(folder: Path, bank: LayoutBank, data: str) -> None:
    """Add (or replace) the bank's section at the end of the folder's README.md model card."""
    strength = json.loads((folder / "model_index.json").read_text()).get("layout_strength", 1.0)
    size = int(bank.layouts.shape[-1])
    mb = (folder / BANK_FILE).stat().st_size / 1e6
    section = "\n".join([
        CARD_HEADING, "",
        f"`{BANK_FILE}` ({mb:.1f} MB) holds {len(bank)} training scenes of `{data}` as {size}x{size} uint8 layouts, "
        "each with the mean of its captions' embeddings (float16). With `layout_strength` below 1 the pipeline "
        f"picks one of the {bank.top_k} layouts whose captions are nearest the prompt (drawn with the generator), "
        "upsamples it, noises it to that point of the schedule and runs the rest of the guided sampler "
        f"(`text3d/models/t2i/layout_bank.py`). Default saved here: layout_strength {strength} "
        "(1 = start from pure noise, the UNet alone). Built with "
        f"`python -m text3d.models.t2i.layout_bank --pipeline <this folder> --data {data} --n {len(bank)} --size {size} "
        f"--top-k {bank.top_k} --strength {strength}`. Figures for both ways: docs/t2i_eval.md (text-to-image), "
        "docs/bench_outpainting.md and docs/training/inpaint.md (inpainting).", ""])
    replace_card_section(folder, CARD_HEADING, section)


if __name__ == "__main__":
    raise SystemExit(main())
