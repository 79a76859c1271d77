"""Sharded, streamable copies of any dataset: tar shards in the WebDataset layout, read lazily.

Layout of ``DIR`` (written by ``python -m depthgen.data.convert SPEC --out DIR``)::

    shard-00000.tar        per sample <key>.rgb.png (8-bit RGB), <key>.depth.npy ((H, W) float32 m, 0 = invalid),
                           <key>.json ({"name", "outdoor", "K" 3x3 or null}), and <key>.sensor_depth.npy when the
                           source has a sensor depth; <key> = the 9-digit sample number (no dots: WebDataset groups
                           a sample's files by the name before the first dot)
    shard-00000.idx.npy    (count, 2) int64: each sample's byte range in its tar (for random access)
    index.json             {"format": "webdataset", "counts": [...], "n": N, "source": SPEC}; written last

Any WebDataset / tar tool streams the shards in order. ``TarShards(DIR)`` reads sample i by seeking to its byte
range: only the per-shard counts stay in memory, plus the byte ranges of a few recently used shards, so resident
memory does not grow with the number of samples (bench/data_memory.py). It is map-style, so the training loader's
deterministic batch order (depthgen.training.data.StepBatchSampler) splits it across ranks and workers and resumes
exactly.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from depthgen.common.io import atomic_path, write_json

FORMAT = "webdataset"
ARRAYS = ("depth", "sensor_depth")  # float32 (H, W) members stored as .npy


def _encode_item(item: dict[str, Any]) -> dict[str, bytes]:
    """The tar members of one sample (suffix -> bytes)."""
    import cv2

    rgb = np.asarray(item["rgb"])
    if rgb.dtype != np.uint8:
        rgb = np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
    ok, png = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"cannot encode the image of {item.get('name')!r} as PNG")
    depth = np.asarray(item["depth"], np.float32)
    valid = np.asarray(item.get("valid", depth > 0), bool) & np.isfinite(depth) & (depth > 0)
    members = {"rgb.png": png.tobytes()}
    for key in ARRAYS:
        if item.get(key) is not None:
            a = np.asarray(item[key], np.float32)
            a = np.where(valid, a, 0.0).astype(np.float32) if key == "depth" else a
            buf = io.BytesIO()
            np.save(buf, a)
            members[f"{key}.npy"] = buf.getvalue()
    K = item.get("K")
    meta = {"name": str(item.get("name", "")), "outdoor": bool(item.get("outdoor", False)),
            "K": None if K is None else np.asarray(K, np.float64).tolist()}
    members["json"] = json.dumps(meta).encode()
    return members


def _write_shard(path: Path, items: list[tuple[int, dict[str, Any]]]) -> np.ndarray:
    """Write one tar shard (atomically) and its byte-range index; returns the index (count, 2)."""
    ranges = []
    with atomic_path(path) as tmp, open(tmp, "wb") as f, tarfile.open(fileobj=f, mode="w",
                                                                      format=tarfile.PAX_FORMAT) as tar:
        for number, item in items:
            start = f.tell()
            for suffix, data in _encode_item(item).items():
                info = tarfile.TarInfo(f"{number:09d}.{suffix}")
                info.size, info.mtime, info.mode = len(data), 0, 0o644
                tar.addfile(info, io.BytesIO(data))
            ranges.append((start, f.tell()))
    index = np.asarray(ranges, np.int64).reshape(-1, 2)
    with atomic_path(path.with_suffix(".idx.npy")) as tmp, open(tmp, "wb") as f:
        np.save(f, index)
    return index


def write_tar_shards(items: Iterable[dict[str, Any]], out: str | Path, shard_size: int = 1000,
                     source: str = "") -> int:
    """Write ``items`` (dataset items: rgb, depth, valid, optional K, outdoor, name, sensor_depth) as tar shards
    under ``out``, streaming (one shard in memory at a time); returns the number written."""
    if shard_size < 1:
        raise ValueError(f"shard size must be >= 1, got {shard_size}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.json").unlink(missing_ok=True)  # incomplete until rewritten
    counts, batch, n = [], [], 0
    for item in items:
        batch.append((n, item))
        n += 1
        if len(batch) == shard_size:
            counts.append(len(_write_shard(out / f"shard-{len(counts):05d}.tar", batch)))
            batch = []
    if batch:
        counts.append(len(_write_shard(out / f"shard-{len(counts):05d}.tar", batch)))
    if n == 0:
        raise ValueError("the source dataset is empty; nothing to convert")
    write_json(out / "index.json", {"format": FORMAT, "counts": counts, "n": n, "source": source})
    return n


class TarShards(torch.utils.data.Dataset):
    """Lazy map-style reader of a ``write_tar_shards`` folder (see the module docstring). Items: ``rgb``
    (H, W, 3) uint8, ``depth`` (H, W) float32 m, ``valid`` bool, ``name``, ``outdoor``, ``K`` when stored and
    ``sensor_depth`` when stored. ``cached_shards``: how many shards' byte ranges are kept."""

    def __init__(self, root: str | Path, cached_shards: int = 4) -> None:
        self.root = Path(root)
        index = self.root / "index.json"
        if not index.is_file():
            raise ValueError(f"{self.root} has no index.json; write it with python -m depthgen.data.convert SPEC "
                             f"--out {self.root}")
        try:
            meta = json.loads(index.read_text(encoding="utf-8"))
            counts = [int(c) for c in meta["counts"]]
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{index} is not a depthgen shard index (expected counts per shard)") from None
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.source, self.cached_shards = meta.get("source", ""), max(1, int(cached_shards))
        self._ranges: OrderedDict[int, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def _range(self, k: int, j: int) -> tuple[int, int]:
        if k not in self._ranges:
            self._ranges[k] = np.load(self.root / f"shard-{k:05d}.idx.npy")
            while len(self._ranges) > self.cached_shards:
                self._ranges.popitem(last=False)
        start, end = self._ranges[k][j]
        return int(start), int(end)

    def raw(self, i: int) -> dict[str, bytes]:
        """Sample ``i``'s tar members as {suffix: bytes}."""
        if not 0 <= i < len(self):
            raise IndexError(i)
        k = int(np.searchsorted(self.offsets, i, side="right") - 1)
        start, end = self._range(k, i - int(self.offsets[k]))
        with open(self.root / f"shard-{k:05d}.tar", "rb") as f:
            f.seek(start)
            chunk = f.read(end - start)
        with tarfile.open(fileobj=io.BytesIO(chunk), mode="r:") as tar:
            return {m.name.split(".", 1)[1]: tar.extractfile(m).read() for m in tar if m.isfile()}

    def __getitem__(self, i: int) -> dict[str, Any]:
        import cv2

        members = self.raw(int(i))
        bgr = cv2.imdecode(np.frombuffer(members["rgb.png"], np.uint8), cv2.IMREAD_COLOR)
        meta = json.loads(members["json"])
        depth = np.load(io.BytesIO(members["depth.npy"]))
        item: dict[str, Any] = {"rgb": cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), "depth": depth, "valid": depth > 0,
                                "name": meta["name"], "outdoor": bool(meta["outdoor"])}
        if meta.get("K") is not None:
            item["K"] = np.asarray(meta["K"], np.float64)
        if "sensor_depth.npy" in members:
            item["sensor_depth"] = np.load(io.BytesIO(members["sensor_depth.npy"]))
        return item

    def __repr__(self) -> str:
        return f"TarShards({str(self.root)!r}, n={len(self)}, shards={len(self.offsets) - 1})"
