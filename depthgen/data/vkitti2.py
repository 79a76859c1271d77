"""Virtual KITTI 2 in its published layout (the rgb, depth and textgt archives extracted into one root, or two).

    ROOT/Scene01/clone/frames/rgb/Camera_0/rgb_00000.jpg
    ROOT/Scene01/clone/frames/depth/Camera_0/depth_00000.png    uint16 centimetres; 65535 (655.35 m) = sky
    ROOT/Scene01/clone/intrinsic.txt                            "frame cameraID K[0,0] K[1,1] K[0,2] K[1,2]" rows

Sky is invalid and every frame is outdoors. Without ``intrinsic.txt`` the dataset's fixed camera is used.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from depthgen.common.io import read_depth_png
from depthgen.data.folder import read_rgb, rgbd_item

VKITTI2_K = np.array([[725.0087, 0, 620.5], [0, 725.0087, 187.0], [0, 0, 1]], np.float64)
SKY_CM = 65535


@lru_cache(maxsize=256)
def _intrinsics(path: str) -> dict[tuple[int, int], np.ndarray]:
    """{(frame, camera): K} from an ``intrinsic.txt`` ({} when absent)."""
    p, out = Path(path), {}
    if p.is_file():
        for line in p.read_text(encoding="utf-8").splitlines()[1:]:
            f = line.split()
            if len(f) == 6:
                fx, fy, cx, cy = map(float, f[2:])
                out[(int(f[0]), int(f[1]))] = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], np.float64)
    return out


class VirtualKITTI2(torch.utils.data.Dataset):
    """Frames of every scene / variation / camera (``scenes``, ``variations``: optional name filters)."""

    protocol = "kitti"

    def __init__(self, root: str | Path, depth_root: str | Path | None = None, scenes: list[str] | None = None,
                 variations: list[str] | None = None) -> None:
        self.root = Path(root)
        self.depth_root = Path(depth_root) if depth_root else self.root
        for r in (self.root, self.depth_root):
            if not r.is_dir():
                raise ValueError(f"Virtual KITTI 2 folder not found: {r}")
        rgbs = sorted(self.root.glob("Scene*/*/frames/rgb/Camera_*/rgb_*.jpg"))
        rgbs = [p for p in rgbs if (not scenes or p.parts[-6] in scenes) and (not variations or p.parts[-5] in variations)]
        if not rgbs:
            raise ValueError(f"no Virtual KITTI 2 frames under {self.root}; expected "
                             "Scene01/clone/frames/rgb/Camera_0/rgb_00000.jpg")
        self.rgb_files = rgbs
        self.names = [str(p.relative_to(self.root).with_suffix("")) for p in rgbs]
        missing = [p for p in map(self._depth_path, rgbs) if not p.is_file()]
        if missing:
            raise ValueError(f"Virtual KITTI 2 depth map not found: {missing[0]}; extract the depth archive "
                             f"(vkitti2:RGB_ROOT:DEPTH_ROOT when it is elsewhere)")

    def _depth_path(self, rgb: Path) -> Path:
        rel = rgb.relative_to(self.root)
        frame = rel.stem.split("_")[1]
        return self.depth_root / rel.parents[2] / "depth" / rel.parent.name / f"depth_{frame}.png"

    def __len__(self) -> int:
        return len(self.rgb_files)

    def __getitem__(self, i: int) -> dict:
        rgb_path = self.rgb_files[i]
        rel = rgb_path.relative_to(self.root)
        raw = read_depth_png(self._depth_path(rgb_path), 1.0)  # centimetres
        frame, cam = int(rel.stem.split("_")[1]), int(rel.parent.name.split("_")[1])
        K = _intrinsics(str(self.root / rel.parts[0] / rel.parts[1] / "intrinsic.txt")).get((frame, cam), VKITTI2_K)
        return rgbd_item(read_rgb(rgb_path), raw / 100.0, self.names[i], K, outdoor=True, valid=raw < SKY_CM)

    def __repr__(self) -> str:
        return f"VirtualKITTI2({str(self.root)!r}, n={len(self)})"
