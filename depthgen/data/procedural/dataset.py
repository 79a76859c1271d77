"""Torch datasets: ``ProceduralDataset`` renders on the fly; ``ShardDataset`` reads the npz shards;
``ProceduralEvalSet`` is the first n scenes of a split as a map-style dataset (``procedural:`` specs)."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from depthgen.common.cli import format_size
from depthgen.data.procedural.sample import generate_sample, split_seed

KINDS = ("all", "indoor", "outdoor")
DEFAULT_PROCEDURAL_N = 100
DEFAULT_PROCEDURAL_SIZE = (240, 320)  # (H, W); typed as 320x240


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


class ProceduralEvalSet(torch.utils.data.Dataset):
    """The first ``n`` procedural scenes of a split (optionally only indoor or only outdoor ones), rendered
    on demand with clean depth as ground truth (``generate_sample(split_seed(split, i), size, sensor=None)``).

    Filtering by kind needs a render to know a scene's kind; matching seed indices are found by scanning
    forward and remembered, and the last rendered sample is cached, so reading the set in order renders each
    scene once. Items add ``outdoor``, ``scene_type``, ``caption``, ``seed_index``, ``protocol`` and ``K`` (3, 3).
    ``sensor`` (``kinect`` | ``lidar``): also render the sensor's depth as ``sensor_depth`` (training targets).
    """

    default_crop = "none"

    def __init__(self, split: str = "test", kind: str = "all", n: int = DEFAULT_PROCEDURAL_N,
                 size: tuple[int, int] = DEFAULT_PROCEDURAL_SIZE, max_scan: int | None = None,
                 sensor: str | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"procedural kind must be one of {KINDS}, got {kind!r}")
        if n < 1:
            raise ValueError(f"number of procedural samples must be >= 1, got {n}")
        if len(size) != 2 or min(size) < 8:
            raise ValueError(f"procedural image size (height, width) must both be >= 8, got {size}")
        self.split, self.kind, self.n, self.size = split, kind, int(n), (int(size[0]), int(size[1]))
        self.sensor = sensor
        self.protocol = {"all": None, "indoor": "nyu", "outdoor": "kitti"}[kind]
        self.max_scan = max_scan if max_scan is not None else 20 * self.n + 100
        self._found: list[int] = []  # seed indices of matching scenes, in order
        self._next = 0  # next seed index to scan
        self._cache: tuple[int, dict] | None = None

    def __len__(self) -> int:
        return self.n

    def _render(self, i: int) -> dict:
        if self._cache is not None and self._cache[0] == i:
            return self._cache[1]
        sample = generate_sample(split_seed(self.split, i), size=self.size, sensor=self.sensor)
        self._cache = (i, sample)
        return sample

    def seed_index(self, index: int) -> int:
        """The split index ``i`` (seed ``split_seed(split, i)``) of item ``index``."""
        if not 0 <= index < self.n:
            raise IndexError(index)
        if self.kind == "all":
            return index
        while len(self._found) <= index:
            if self._next >= self.max_scan:
                raise ValueError(f"only {len(self._found)} {self.kind} scenes among the first {self.max_scan} "
                                 f"{self.split} seeds; ask for fewer samples")
            if bool(self._render(self._next)["outdoor"]) == (self.kind == "outdoor"):
                self._found.append(self._next)
            self._next += 1
        return self._found[index]

    def __getitem__(self, index: int) -> dict:
        i = self.seed_index(index)
        s = self._render(i)
        depth = np.asarray(s["depth"], dtype=np.float32)
        valid = np.asarray(s.get("valid", depth > 0), dtype=bool) & (depth > 0)
        outdoor = bool(s["outdoor"])
        item = {"rgb": np.asarray(s["rgb"], dtype=np.uint8), "depth": np.where(valid, depth, 0).astype(np.float32),
                "valid": valid, "name": f"{self.split}_{i:05d}", "seed_index": i, "outdoor": outdoor,
                "scene_type": str(s.get("scene_type", "")), "caption": str(s.get("caption", "")),
                "protocol": "kitti" if outdoor else "nyu", "K": None if s.get("K") is None else np.asarray(s["K"], dtype=np.float64)}
        if self.sensor is not None:
            item["sensor_depth"] = np.asarray(s["sensor_depth"], np.float32)
        return item

    def __repr__(self) -> str:
        return (f"ProceduralEvalSet(split={self.split!r}, kind={self.kind!r}, n={self.n}, "
                f"size={format_size(*self.size)})")
