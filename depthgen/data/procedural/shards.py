"""Writing procedural samples to npz shards (and optionally the generic folder format).

Shard ``DIR/shard-XXXXX.npz`` holds run samples ``[k * shard_size, (k + 1) * shard_size)``, stacked:
rgb (N, H, W, 3) uint8, depth / sensor_depth (N, H, W) float32 m (0 = invalid / hole), valid (N, H, W) bool,
K (N, 3, 3) float64, cam_to_world (N, 4, 4) float64, seed / index (N,) int64, outdoor (N,) bool,
scene_type (N,) str, captions: a 0-d string holding a JSON list of N caption lists. ``DIR/meta.json``
describes the run and carries the folder format's ``depth_scale``. Complete shards that already exist are
kept, so an interrupted run resumes by running the same command again.

Folder format (``folder=True``): ``DIR/rgb/<name>.png``, ``DIR/depth/<name>.png`` (clean depth, 16-bit,
``depth_scale`` units per metre, 0 = invalid; depths past the 16-bit range are written as 0) and, with a
sensor, ``DIR/sensor_depth/<name>.png``; ``<name>`` is ``<split>_<index:07d>``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from depthgen.common.io import atomic_path, write_depth_png, write_json
from depthgen.data.folder import write_folder_sample
from depthgen.data.procedural.sample import generate_sample, split_seed

SHARD_KEYS = ("rgb", "depth", "valid", "sensor_depth", "K", "cam_to_world", "seed", "outdoor", "scene_type")


def shard_path(out: str | Path, shard: int) -> Path:
    return Path(out) / f"shard-{shard:05d}.npz"


def sample_name(split: str, index: int) -> str:
    return f"{split}_{index:07d}"


def _existing_count(path: Path) -> int:
    try:
        with np.load(path) as z:
            return int(len(z["seed"]))
    except Exception:  # missing or truncated: rewrite
        return -1


def _render(task: tuple) -> dict[str, Any]:
    """Worker: render sample ``index`` and (optionally) write its folder files; returns the shard fields."""
    out, split, index, size, sensor, outdoor_fraction, folder, depth_scale, realism = task
    s = generate_sample(split_seed(split, index), size, sensor, outdoor_fraction, realism=realism)
    if folder:
        name = sample_name(split, index)
        limit = 65535.5 / depth_scale
        write_folder_sample(out, name, s["rgb"], np.where(s["depth"] < limit, s["depth"], 0.0), depth_scale)
        if sensor is not None:
            (Path(out) / "sensor_depth").mkdir(exist_ok=True)
            write_depth_png(Path(out) / "sensor_depth" / f"{name}.png",
                            np.where(s["sensor_depth"] < limit, s["sensor_depth"], 0.0), depth_scale)
    rec = {k: s[k] for k in SHARD_KEYS}
    rec["captions"], rec["index"] = s["captions"], index
    return rec


def _save_shard(path: Path, recs: list[dict]) -> None:
    arrays = {k: np.stack([np.asarray(r[k]) for r in recs]) for k in SHARD_KEYS}
    arrays["scene_type"] = arrays["scene_type"].astype(str)
    arrays["index"] = np.array([r["index"] for r in recs], np.int64)
    arrays["captions"] = np.array(json.dumps([list(r["captions"]) for r in recs]))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def write_shards(out: str | Path, n: int, size: tuple[int, int], split: str = "train", sensor: str | None = "kinect",
                 shard_size: int = 1000, workers: int = 1, start: int = 0, outdoor_fraction: float = 0.2,
                 folder: bool = False, depth_scale: float = 1000.0, progress: bool = True,
                 realism: Any = None) -> list[Path]:
    """Write samples ``start .. start + n - 1`` of ``split`` as shards under ``out``; returns the shard paths.
    ``workers`` > 1 renders samples in that many processes (output identical to ``workers=1``). ``realism``:
    the sim-to-real effects (``realism.realism_config``; None = the plain engine), recorded in ``meta.json``;
    resuming a folder written with other realism settings is refused."""
    from depthgen.data.procedural.realism import realism_config

    cfg = realism_config(realism)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    old = out / "meta.json"
    if old.is_file() and any(out.glob("shard-*.npz")):
        try:
            before = json.loads(old.read_text(encoding="utf-8")).get("realism")
        except (OSError, ValueError, AttributeError):
            before = None
        if before != (cfg.to_dict() if cfg else None):
            raise ValueError(f"{out} holds shards written with realism {before or 'off'}; write to another folder")
    size = (int(size[0]), int(size[1]))
    n_shards = (n + shard_size - 1) // shard_size
    paths = [shard_path(out, k) for k in range(n_shards)]
    meta = {"depth_scale": depth_scale, "protocol": "none", "n": n, "size": list(size), "split": split,
            "sensor": sensor, "start": start, "shard_size": shard_size, "outdoor_fraction": outdoor_fraction,
            "shards": [p.name for p in paths], "folder": folder, "generator": "depthgen.data.procedural",
            "realism": cfg.to_dict() if cfg else None}
    write_json(out / "meta.json", meta)
    todo = []
    for k, p in enumerate(paths):
        count = min(shard_size, n - k * shard_size)
        if folder or _existing_count(p) != count:
            todo.append((k, count))
    tasks = [(str(out), split, start + k * shard_size + i, size, sensor, outdoor_fraction, folder, depth_scale, cfg)
             for k, count in todo for i in range(count)]
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc=f"procedural {split}", disable=not progress, unit="img")
    if workers > 1 and len(tasks) > 1:
        import multiprocessing as mp

        pool = mp.get_context("fork" if hasattr(os, "fork") else "spawn").Pool(workers)
        results = pool.imap(_render, tasks, chunksize=4)
    else:
        pool, results = None, map(_render, tasks)
    try:
        for k, count in todo:
            recs = []
            for _ in range(count):
                recs.append(next(results))
                bar.update(1)
            _save_shard(paths[k], recs)
    finally:
        if pool is not None:
            pool.terminate()
        bar.close()
    return paths
