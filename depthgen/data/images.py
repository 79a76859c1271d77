"""A folder of plain photographs (no depth) for the Palette pre-training tasks.

Every ``.jpg`` / ``.jpeg`` / ``.png`` under ``DIR`` (recursively, sorted by relative path). Items: ``rgb`` (H, W, 3)
uint8, ``depth`` (H, W) float32 all 0, ``valid`` all False, ``name`` (the relative path without extension),
``outdoor`` False. The inpainting masks that need depth fall back to synthetic depth (depthgen.data.masks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from depthgen.data.folder import RGB_EXTS, read_rgb, rgbd_item


class ImageFolder(torch.utils.data.Dataset):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ValueError(f"image folder not found: {self.root}")
        self.files = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in RGB_EXTS
                            and not any(part.startswith(".") for part in p.relative_to(self.root).parts))
        if not self.files:
            raise ValueError(f"no photographs (.jpg/.png) under {self.root}")
        self.names = [str(p.relative_to(self.root).with_suffix("")) for p in self.files]

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict:
        rgb = read_rgb(self.files[i])
        return rgbd_item(rgb, np.zeros(rgb.shape[:2], np.float32), self.names[i])

    def __repr__(self) -> str:
        return f"ImageFolder({str(self.root)!r}, n={len(self)})"
