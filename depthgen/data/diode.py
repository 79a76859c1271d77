"""DIODE (Vasiljevic et al. 2019) in its published layout:

    ROOT/{train,val}/{indoors,outdoor}/scene_00019/scan_00183/00019_00183_indoors_000_010.png
                                                          .../00019_00183_indoors_000_010_depth.npy       (H, W, 1) m
                                                          .../00019_00183_indoors_000_010_depth_mask.npy  (H, W)

``split`` picks ``train`` or ``val`` (``test`` reads ``val``, DIODE's public evaluation set); ``kind`` indoors,
outdoor or both. K is DIODE's (fx 886.81, fy 927.06 at 1024 x 768); ``outdoor`` follows the folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from depthgen.data.folder import read_rgb, rgbd_item

DIODE_K = np.array([[886.81, 0, 512.0], [0, 927.06, 384.0], [0, 0, 1]], np.float64)
KINDS = ("indoors", "outdoor")


class DIODE(torch.utils.data.Dataset):
    def __init__(self, root: str | Path, split: str = "train", kind: str | None = None) -> None:
        self.root = Path(root)
        part = "train" if split == "train" else "val"
        if kind is not None and kind not in KINDS:
            raise ValueError(f"DIODE kind must be indoors or outdoor, got {kind!r}")
        base = self.root / part
        if not base.is_dir():
            raise ValueError(f"DIODE split folder not found: {base}; expected ROOT/{part}/indoors/scene_*/scan_*/")
        self.rgb_files = sorted(p for k in ([kind] if kind else KINDS) for p in (base / k).glob("scene_*/scan_*/*.png"))
        if not self.rgb_files:
            raise ValueError(f"no DIODE images under {base}")
        missing = [p for p in self.rgb_files if not p.with_name(p.stem + "_depth.npy").is_file()]
        if missing:
            raise ValueError(f"DIODE depth not found: {missing[0].with_name(missing[0].stem + '_depth.npy')}")
        self.names = [p.stem for p in self.rgb_files]

    def __len__(self) -> int:
        return len(self.rgb_files)

    def __getitem__(self, i: int) -> dict:
        p = self.rgb_files[i]
        rgb = read_rgb(p)
        depth = np.load(p.with_name(p.stem + "_depth.npy")).astype(np.float32).reshape(rgb.shape[:2])  # (H, W, 1)
        mask_path = p.with_name(p.stem + "_depth_mask.npy")
        valid = np.load(mask_path).astype(bool).reshape(rgb.shape[:2]) if mask_path.is_file() else None
        return rgbd_item(rgb, depth, self.names[i], DIODE_K, outdoor=p.parts[-4] == "outdoor", valid=valid)

    def __repr__(self) -> str:
        return f"DIODE({str(self.root)!r}, n={len(self)})"
