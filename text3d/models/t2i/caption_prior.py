"""The caption prior: a prompt's embedding pulled toward the embeddings of its nearest training captions.

Why: the embedded image models are conditioned on one 384-d sentence embedding and were trained only on the
embeddings of procedural captions, which always name the scene type ("a bedroom with a white bed"). A prompt
phrased otherwise ("a study where someone works from home") lands between them, where the UNet has never been
trained, and its picture drifts toward another room. The sentence encoder itself still ranks the right
training captions first: the nearest 8 captions of all 14 development prompts and of all 20 evaluation prompts
have the prompted scene type as their majority (measured over the 31,926 captions of the 8,000 training
scenes). So before sampling, the prompt's unit embedding ``q`` is moved toward the mean ``m`` of its ``top_k``
nearest bank entries (cosine similarity):

    e = normalise((1 - strength) * q + strength * normalise(m))

``strength`` 0 leaves the prompt as it is; 1 replaces it by the neighbours' mean. The null (all-zero) embedding
of classifier-free guidance is left at zero. The bank is a sample of training-caption embeddings, saved beside
the UNet as ``caption_prior.safetensors`` (float16); the pipeline's default strength is saved in its
``model_index.json`` (``caption_prior_strength``; 0 for a folder that names none).

Build one for a trained pipeline from the captions of its training set (a latent cache or a shard folder):

    python -m text3d.models.t2i.caption_prior --pipeline assets/t2i-latent \\
        --captions data/latents/train-256.safetensors --n 4096 --top-k 16 --strength 0.75
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

from depthgen.common.io import read_safetensors, write_safetensors
from text3d.models.loading import checked_number, replace_card_section, save_default, saved_index

PRIOR_FILE = "caption_prior.safetensors"


def check_prior_strength(value) -> float:
    """``caption_prior_strength`` as a float in [0, 1]; anything else is a ValueError saying what is allowed."""
    return checked_number(value, "caption_prior_strength", 0.0, 1.0, " (0 = the prompt as it is)")


@dataclass
class CaptionPrior:
    """embeddings: (M, D) float32 unit vectors of training captions; top_k: how many nearest entries are averaged."""

    embeddings: torch.Tensor
    top_k: int = 16

    def __post_init__(self):
        if self.embeddings.ndim != 2 or self.embeddings.shape[0] == 0:
            raise ValueError(f"a caption prior needs (M, D) embeddings with M >= 1, got {tuple(self.embeddings.shape)}")
        if not 1 <= int(self.top_k) <= self.embeddings.shape[0]:
            raise ValueError(f"top_k must be in 1..{self.embeddings.shape[0]} (the bank size), got {self.top_k}")
        self.top_k = int(self.top_k)
        self.embeddings = torch.nn.functional.normalize(self.embeddings.float(), dim=-1)

    def __len__(self) -> int:
        return int(self.embeddings.shape[0])

    def project(self, text: torch.Tensor, strength: float) -> torch.Tensor:
        """text: (n, D) prompt embeddings -> (n, D) float32 on CPU, each moved ``strength`` of the way to its
        neighbours' mean and renormalised (module docstring); all-zero rows stay zero."""
        strength = check_prior_strength(strength)
        if text.ndim != 2 or text.shape[1] != self.embeddings.shape[1]:
            raise ValueError(f"need (n, {self.embeddings.shape[1]}) embeddings, got {tuple(text.shape)}")
        q = text.float().cpu()
        if strength == 0:
            return q
        nearest = (q @ self.embeddings.T).topk(self.top_k, dim=1).indices  # (n, k)
        mean = torch.nn.functional.normalize(self.embeddings[nearest].mean(1), dim=-1)  # (n, D)
        moved = torch.nn.functional.normalize((1 - strength) * q + strength * mean, dim=-1)
        null = q.abs().sum(1) == 0
        return torch.where(null[:, None], q, moved)

    def save(self, folder: str | Path) -> Path:
        """Write ``folder/caption_prior.safetensors`` (via a temporary name: never half-written)."""
        return write_safetensors(Path(folder) / PRIOR_FILE, {"embeddings": self.embeddings.half()},
                                 {"top_k": str(self.top_k)})

    @classmethod
    def load(cls, folder: str | Path) -> "CaptionPrior | None":
        """The prior saved in ``folder``, or None if the folder has none."""
        saved = read_safetensors(Path(folder) / PRIOR_FILE)
        if saved is None:
            return None
        tensors, meta = saved
        return cls(tensors["embeddings"], int(meta.get("top_k", 16)))

    @classmethod
    def build(cls, captions: Sequence[str], encoder, n: int, top_k: int = 16, seed: int = 0) -> "CaptionPrior":
        """A bank of ``n`` distinct captions drawn with ``seed`` from ``captions`` (all of them when fewer),
        encoded with ``encoder`` (``text3d.models.t2i.text_encoder.TextEncoder``)."""
        unique = sorted({c for c in captions if c.strip()})
        if not unique:
            raise ValueError("no captions to build a caption prior from")
        if n < 1:
            raise ValueError(f"--n must be >= 1, got {n}")
        g = torch.Generator().manual_seed(int(seed))
        pick = torch.randperm(len(unique), generator=g)[:n].sort().values
        return cls(encoder.encode([unique[i] for i in pick.tolist()]), top_k)


class CaptionPriorMixin:
    """Loading, saving and applying a pipeline's caption prior: it holds ``caption_prior`` (a ``CaptionPrior``
    or None; not a diffusers module, so saved and loaded here) and ``caption_prior_strength`` in its config.
    List it first among the bases."""

    caption_prior: "CaptionPrior | None" = None

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """Load a saved folder and its caption prior, if it has one."""
        path = Path(pretrained_model_name_or_path)
        pipe = super().from_pretrained(path, **kwargs)
        pipe.caption_prior = CaptionPrior.load(path)
        if pipe.config.caption_prior_strength > 0 and pipe.caption_prior is None:
            raise ValueError(f"{path} sets caption_prior_strength {pipe.config.caption_prior_strength} but has no "
                             f"{PRIOR_FILE}; build one with python -m text3d.models.t2i.caption_prior")
        return pipe

    def save_pretrained(self, save_directory, **kwargs) -> None:
        """The folder as the other bases save it, plus ``caption_prior.safetensors`` when the pipeline has one."""
        super().save_pretrained(save_directory, **kwargs)
        if self.caption_prior is not None:
            self.caption_prior.save(save_directory)

    def apply_caption_prior(self, text: torch.Tensor, strength: float | None = None) -> torch.Tensor:
        """text (n, D) -> (n, D) float32 on CPU, moved toward the training captions by ``strength`` (None = the
        saved default); above 0 needs a caption prior."""
        strength = check_prior_strength(self.config.caption_prior_strength if strength is None else strength)
        if strength == 0:
            return text.float().cpu()
        if self.caption_prior is None:
            raise ValueError(f"caption_prior_strength {strength} needs a caption prior and this pipeline has none; "
                             "pass 0 or build one with python -m text3d.models.t2i.caption_prior")
        return self.caption_prior.project(text, strength)


def read_captions(source: str | Path) -> list[str]:
    """Every caption of a training set: a latent cache file (``text3d.models.autoencoder.encode``) or a folder
    of procedural shards."""
    source = Path(source)
    if source.is_file():
        from text3d.models.autoencoder.encode import read_cache

        return [c for caps in read_cache(source)[3] for c in caps]
    if source.is_dir():
        from depthgen.data.procedural import ShardDataset
        from text3d.models.t2i.data import captions_of

        ds = ShardDataset(str(source), max_cached=1)
        return [c for i in range(len(ds)) for c in captions_of(ds[i])]
    raise ValueError(f"--captions {source} is neither a latent cache file nor a folder of procedural shards")


CARD_HEADING = "## Caption prior"


def write_card_section(folder: Path, prior: CaptionPrior, captions: str) -> None:
    """Add (or replace) the prior's section of the folder's README.md model card."""
    import json

    strength = json.loads((folder / "model_index.json").read_text()).get("caption_prior_strength", 0.0)
    mb = (folder / PRIOR_FILE).stat().st_size / 1e6
    section = "\n".join([
        CARD_HEADING, "",
        f"`{PRIOR_FILE}` ({mb:.1f} MB) holds the float16 embeddings of {len(prior)} training captions of "
        f"`{Path(captions).name}`. Before sampling, the prompt's embedding is moved toward the mean of its "
        f"{prior.top_k} nearest captions by `caption_prior_strength` (default saved here: {strength:g}; 0 = the "
        "prompt as it is), so that prompts phrased unlike the training captions land where the UNet was trained "
        "(`text3d/models/t2i/caption_prior.py`). Built with `python -m text3d.models.t2i.caption_prior --pipeline "
        f"<this folder> --captions <training set> --n {len(prior)} --top-k {prior.top_k} --strength {strength:g}`."])
    replace_card_section(folder, CARD_HEADING, section)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m text3d.models.t2i.caption_prior", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pipeline", required=True, help="pipeline folder (text-to-image or text inpainting) to write "
                                                      f"{PRIOR_FILE} into")
    ap.add_argument("--captions", required=True, help="the model's training set: a latent cache file or a shard folder")
    ap.add_argument("--n", type=int, default=4096, help="captions in the bank (default 4096)")
    ap.add_argument("--top-k", type=int, default=16, help="nearest captions averaged (default 16)")
    ap.add_argument("--strength", type=float, default=None,
                    help="also save this as the pipeline's default caption_prior_strength, in [0, 1]")
    ap.add_argument("--seed", type=int, default=0, help="seed of the caption sample (default 0)")
    args = ap.parse_args(argv)
    try:
        index = saved_index(args.pipeline)
        if args.strength is not None:
            check_prior_strength(args.strength)
        from text3d.models.t2i.text_encoder import load_text_encoder

        prior = CaptionPrior.build(read_captions(args.captions), load_text_encoder(), args.n, args.top_k, args.seed)
        path = prior.save(args.pipeline)
        if args.strength is not None:
            save_default(index, "caption_prior_strength", args.strength)
        write_card_section(Path(args.pipeline), prior, args.captions)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path}: {len(prior)} caption embeddings, top_k {prior.top_k}"
          + (f"; default caption_prior_strength {args.strength}" if args.strength is not None else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
