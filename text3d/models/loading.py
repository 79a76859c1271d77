"""``LocalPipeline``: the loading rule of the embedded image pipelines (text-to-image, inpainting, SR).

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
