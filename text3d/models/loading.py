"""``LocalPipeline``: the loading rule of the embedded image pipelines (text-to-image, inpainting, SR), and the
two edits tools make to a saved folder: a sampling default in ``model_index.json`` and a section of its card.

A saved folder only (never a hub id), offline; weights stored in float16 to halve the folder are cast to
float32 unless the caller asks for a dtype.
"""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import DiffusionPipeline


class LocalPipeline(DiffusionPipeline):
    """Base of the embedded image pipelines; ``export_hint`` says how to make a missing folder."""

    export_hint = "train or export one"

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        path = Path(pretrained_model_name_or_path)
        if not (path / "model_index.json").is_file():
            raise ValueError(f"{path} is not a saved {cls.__name__} folder (no model_index.json); {cls.export_hint}")
        kwargs.setdefault("local_files_only", True)
        pipe = super().from_pretrained(str(path), **kwargs)
        if "torch_dtype" not in kwargs and "dtype" not in kwargs:
            pipe.unet.to(torch.float32)
        return pipe


def checked_number(value, what: str, low: float = 0.0, high: float | None = None, note: str = "") -> float:
    """``value`` as a float when it is a finite number in [low, high] (``high`` None: no upper bound), else a
    ValueError naming ``what`` and the allowed range (``note`` follows the range in the message)."""
    import math

    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not math.isfinite(v) or v < low or (high is not None and v > high):
        span = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"
        raise ValueError(f"{what} must be a number {span}{note}, got {value!r}")
    return v


def saved_index(folder: str | Path) -> Path:
    """The ``model_index.json`` of a saved pipeline folder; ValueError when ``folder`` is not one."""
    index = Path(folder) / "model_index.json"
    if not index.is_file():
        raise ValueError(f"--pipeline {folder} is not a saved pipeline folder (no model_index.json)")
    return index


def save_default(index: str | Path, key: str, value: float) -> None:
    """Record a sampling default (``key``: ``value``) in a saved pipeline's ``model_index.json`` (rewritten
    atomically), where ``from_pretrained`` passes it to the pipeline."""
    import json

    from depthgen.common.io import write_json

    index = Path(index)
    config = json.loads(index.read_text())
    config[key] = float(value)
    write_json(index, config)


def replace_card_section(folder: str | Path, heading: str, section: str) -> None:
    """Add ``section`` (starting with the line ``heading``) at the end of the folder's README.md model card, or
    replace the one already there (it runs to the end of the card or the next line starting with "## ");
    a folder without a card is left alone."""
    from depthgen.common.io import write_text

    card = Path(folder) / "README.md"
    if not card.is_file():
        return
    text = card.read_text(encoding="utf-8")
    if heading in text:
        start = text.index(heading)
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + (text[end + 1:] if end >= 0 else "")
    write_text(card, text.rstrip() + "\n\n" + section.rstrip() + "\n")
