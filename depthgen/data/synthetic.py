"""``SyntheticDataset``: toy RGB-D samples built from the index alone (tests and smoke runs; ``synthetic:`` specs)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class SyntheticDataset(torch.utils.data.Dataset):
    """``n`` deterministic toy RGB-D samples of ``size`` x ``size``: a gradient background with boxes whose
    colour and depth agree (nearer boxes are brighter), so depth is learnable from the image."""

    def __init__(self, n: int = 256, size: int = 32, seed: int = 0) -> None:
        self.n, self.size, self.seed = n, size, seed

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, Any]:
        rng = np.random.default_rng([self.seed, i])
        s = self.size
        v, u = np.mgrid[0:s, 0:s].astype(np.float32) / s
        depth = (4.0 + 2.0 * v + rng.uniform(-1, 1) * (u - 0.5)).astype(np.float32)
        base = rng.uniform(0.2, 0.6, 3).astype(np.float32)
        rgb = np.clip(base[None, None] * (1.2 - 0.15 * depth[..., None] / 2), 0, 1)
        for _ in range(rng.integers(1, 4)):
            bh, bw = rng.integers(s // 6, s // 2, 2)
            y, x = rng.integers(0, s - bh), rng.integers(0, s - bw)
            d = rng.uniform(1.0, 3.5)
            depth[y:y + bh, x:x + bw] = d
            rgb[y:y + bh, x:x + bw] = np.clip(rng.uniform(0.3, 1.0, 3) * (1.3 - d / 5), 0, 1)
        sensor = depth.copy()
        holes = rng.random((s, s)) < 0.05
        sensor[holes] = 0.0
        return {"rgb": (rgb * 255).round().astype(np.uint8), "depth": depth, "valid": np.ones((s, s), bool),
                "sensor_depth": sensor, "outdoor": False, "name": f"synthetic_{i:06d}"}
