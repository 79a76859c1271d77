"""Torch datasets: ``ProceduralDataset`` renders on the fly; ``ShardDataset`` reads the npz shards."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from depthgen.data.procedural.sample import generate_sample, split_seed


class ProceduralDataset(torch.utils.data.IterableDataset):
    """Samples ``split_seed(split, start + i)`` for i = 0, 1, ... (``n`` of them, or endless when None),
    rendered on the fly. With DataLoader workers, worker w of k takes i = w, w + k, ..., so every index is
    produced exactly once. Items are ``generate_sample`` dicts (numpy arrays). ``realism``: the sim-to-real
    effects (``realism.realism_config``; default None, the plain engine)."""

    def __init__(self, split: str = "train", size: tuple[int, int] | int = (64, 64), sensor: str | None = "kinect",
                 n: int | None = None, start: int = 0, outdoor_fraction: float = 0.2, realism: Any = None) -> None:
        from depthgen.data.procedural.realism import realism_config

        split_seed(split, start)  # validates split and start
        self.split, self.sensor, self.n, self.start = split, sensor, n, int(start)
        self.size = (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))
        self.outdoor_fraction = outdoor_fraction
        self.realism = realism_config(realism)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        i = wid
        while self.n is None or i < self.n:
            yield generate_sample(split_seed(self.split, self.start + i), self.size, self.sensor,
                                  self.outdoor_fraction, realism=self.realism)
            i += nw

    def __len__(self) -> int:
        if self.n is None:
            raise TypeError("an endless ProceduralDataset (n=None) has no length")
        return self.n


class ShardDataset(torch.utils.data.Dataset):
    """Map-style dataset over ``DIR/shard-*.npz`` (written by ``python -m depthgen.data.procedural``).

    Item i: rgb (H, W, 3) uint8, depth / sensor_depth (H, W) float32 m, valid (H, W) bool, K (3, 3),
    cam_to_world (4, 4), seed int, index int, outdoor bool, scene_type str, caption str (the first),
    captions list[str]. Shards are loaded whole on first use and kept (``max_cached`` shards, None = all).
    ``to_tensor`` converts arrays to torch tensors.
    """

    def __init__(self, root: str | Path, max_cached: int | None = None, to_tensor: bool = False) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ValueError(f"shard folder not found: {self.root}; write it with python -m depthgen.data.procedural")
        self.paths = sorted(self.root.glob("shard-*.npz"))
        if not self.paths:
            raise ValueError(f"no shard-*.npz files in {self.root}; write them with python -m depthgen.data.procedural")
        counts = []
        for p in self.paths:
            with np.load(p) as z:
                counts.append(len(z["seed"]))
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        self.max_cached, self.to_tensor = max_cached, to_tensor
        self._cache: OrderedDict[int, dict[str, Any]] = OrderedDict()

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def _shard(self, k: int) -> dict[str, Any]:
        if k in self._cache:
            self._cache.move_to_end(k)
            return self._cache[k]
        with np.load(self.paths[k]) as z:
            data = {key: z[key] for key in z.files}
        data["captions"] = json.loads(str(data["captions"]))
        self._cache[k] = data
        if self.max_cached is not None:
            while len(self._cache) > max(1, self.max_cached):
                self._cache.popitem(last=False)
        return data

    def __getitem__(self, i: int) -> dict[str, Any]:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i = int(i) % len(self)
        k = int(np.searchsorted(self.offsets, i, side="right") - 1)
        j = i - int(self.offsets[k])
        d = self._shard(k)
        item: dict[str, Any] = {}
        for key in ("rgb", "depth", "valid", "sensor_depth", "K", "cam_to_world"):
            item[key] = torch.from_numpy(np.array(d[key][j])) if self.to_tensor else np.array(d[key][j])
        item["seed"], item["outdoor"] = int(d["seed"][j]), bool(d["outdoor"][j])
        item["index"] = int(d["index"][j]) if "index" in d else i
        item["scene_type"] = str(d["scene_type"][j])
        item["captions"] = list(d["captions"][j])
        item["caption"] = item["captions"][0]
        return item

    def __repr__(self) -> str:
        return f"ShardDataset({str(self.root)!r}, n={len(self)}, shards={len(self.paths)})"
