"""ScanNet frames as exported by its SensReader (``reader.py --export_color_images --export_depth_images
--export_intrinsics``):

    ROOT/scene0000_00/color/0.jpg          1296 x 968 colour
    ROOT/scene0000_00/depth/0.png          640 x 480, uint16 millimetres, 0 = invalid
    ROOT/scene0000_00/intrinsic/intrinsic_depth.txt    4x4, the depth camera

Colour is resized to the depth map (the exported pair is registered), and K is the depth camera's. A scene list
(``scannetv2_train.txt``: one scene name per line) restricts the scenes; ``step`` keeps every step-th frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from depthgen.common.io import read_depth_png
from depthgen.data.folder import read_rgb, rgbd_item


class ScanNetFrames(torch.utils.data.Dataset):
    protocol = "nyu"

    def __init__(self, root: str | Path, scene_list: str | Path | None = None, step: int = 1) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ValueError(f"ScanNet export folder not found: {self.root}")
        if step < 1:
            raise ValueError(f"scannet step must be >= 1, got {step}")
        scenes = sorted(p.parent for p in self.root.glob("*/depth"))
        if scene_list is not None:
            lp = Path(scene_list)
            if not lp.is_file():
                raise ValueError(f"ScanNet scene list not found: {lp}")
            wanted = set(lp.read_text(encoding="utf-8").split())
            scenes = [s for s in scenes if s.name in wanted]
        self.frames: list[tuple[Path, int]] = []
        for scene in scenes:
            if not (scene / "intrinsic" / "intrinsic_depth.txt").is_file():
                raise ValueError(f"{scene} has no intrinsic/intrinsic_depth.txt; export it with --export_intrinsics")
            ids = sorted(int(p.stem) for p in (scene / "depth").glob("*.png") if p.stem.isdigit())
            self.frames += [(scene, i) for i in ids[::step] if (scene / "color" / f"{i}.jpg").is_file()]
        if not self.frames:
            raise ValueError(f"no ScanNet frames under {self.root}; expected scene0000_00/color/0.jpg and depth/0.png")
        self.names = [f"{s.name}/{i:06d}" for s, i in self.frames]

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> dict:
        import cv2

        scene, fid = self.frames[i]
        depth = read_depth_png(scene / "depth" / f"{fid}.png", 1000.0)
        rgb = read_rgb(scene / "color" / f"{fid}.jpg")
        if rgb.shape[:2] != depth.shape:
            rgb = cv2.resize(rgb, (depth.shape[1], depth.shape[0]), interpolation=cv2.INTER_AREA)
        K = np.loadtxt(scene / "intrinsic" / "intrinsic_depth.txt")[:3, :3]
        return rgbd_item(rgb, depth, self.names[i], K)

    def __repr__(self) -> str:
        return f"ScanNetFrames({str(self.root)!r}, n={len(self)})"
