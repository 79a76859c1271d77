"""One dataset grammar for training and evaluation: ``open_dataset(spec, split)``.

A spec is ``FORM:ARG[:ARG...][?KEY=VALUE&KEY=VALUE]``; each form reads the dataset's own published layout
(docs/training/data.md has the table)::

    procedural:SPLIT[:indoor|outdoor|all][:N][:WxH][?sensor=kinect|lidar]   rendered on demand (N=100, 320x240)
    procedural:DIR                                npz shards of python -m depthgen.data.procedural
    synthetic[:N[:S]]                             toy boxes (tests and smoke runs)
    folder:DIR[?frames=A-B|LIST&depth_scale=S]    the generic folder format (depthgen/data/folder.py)
    images:DIR                                    plain photographs, no depth (Palette pre-training only)
    nyu:MAT[:SPLITS[:test|train]]                 nyu_depth_v2_labeled.mat (+ splits.mat)
    nyu:SYNC_DIR:FILELIST                         raw synchronized frames (rgb_*.jpg + sync_depth_*.png)
    kitti:RAW_ROOT:GT_ROOT|velodyne:FILELIST      Eigen file lists; annotated depth or projected velodyne
    hypersim:ROOT[:SPLIT_CSV]                     depth_meters HDF5 (ray distance -> z-depth)
    vkitti2:ROOT[:DEPTH_ROOT][?scenes=A+B&variations=clone]
    scannet:ROOT[:SCENE_LIST][?step=N]            SensReader exports
    diode:ROOT[:indoors|outdoor]
    shards:DIR                                    tar shards of python -m depthgen.data.convert

``frames`` works on every form whose samples have names: ``A-B`` keeps the samples whose name ends in a number
in [A, B] (``folder:DIR?frames=0-599``), anything else is a file listing the names to keep, one per line.
Every dataset yields ``rgb`` (H, W, 3) uint8, ``depth`` (H, W) float32 metres z-depth (0 = invalid), ``valid``
(H, W) bool, ``name``, ``K`` (3, 3) where known and ``outdoor`` where the dataset knows it.

Mixtures (``parse_mix``): ``SPEC@W,SPEC@W,...`` with weights > 0.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import torch

from depthgen.common.cli import parse_size
from depthgen.data.diode import DIODE
from depthgen.data.folder import FolderDataset
from depthgen.data.hypersim import Hypersim
from depthgen.data.images import ImageFolder
from depthgen.data.kitti import KITTIEigen
from depthgen.data.nyu import NYURawFrames, NYUv2Labeled
from depthgen.data.procedural.dataset import (DEFAULT_PROCEDURAL_N, DEFAULT_PROCEDURAL_SIZE, KINDS,
                                              ProceduralEvalSet, ShardDataset)
from depthgen.data.scannet import ScanNetFrames
from depthgen.data.shards import TarShards
from depthgen.data.synthetic import SyntheticDataset
from depthgen.data.vkitti2 import VirtualKITTI2

SPEC_HELP = ("procedural:test[:indoor|outdoor][:N][:WxH], procedural:SHARD_DIR, synthetic[:N[:S]], "
             "folder:DIR[?frames=A-B], images:DIR, nyu:MAT[:SPLITS], nyu:SYNC_DIR:FILELIST, "
             "kitti:RAW_ROOT:GT_ROOT|velodyne:FILELIST, hypersim:ROOT, vkitti2:ROOT, scannet:ROOT, diode:ROOT, "
             "shards:DIR")
NO_DEPTH_FORMS = ("images",)


def parse_spec(spec: str) -> tuple[str, list[str], dict[str, str]]:
    """(form, positional fields, options) of a spec; ``ValueError`` for an unknown form or a bad option."""
    head, _, query = str(spec).partition("?")
    form, _, rest = head.partition(":")
    if form not in FORMS:
        raise ValueError(f"unknown data form {form!r} in {spec!r}; use one of {SPEC_HELP}")
    options = {}
    for pair in filter(None, query.split("&")):
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise ValueError(f"bad option {pair!r} in {spec!r}; write ?key=value&key=value")
        options[key] = value
    return form, rest.split(":") if rest else [], options


def _need(fields: list[str], lo: int, hi: int, usage: str) -> None:
    if not lo <= len(fields) <= hi or not all(fields[:lo]):
        raise ValueError(f"the spec must be {usage}")


def _procedural(fields: list[str], opts: dict[str, str], split: str) -> torch.utils.data.Dataset:
    if fields and Path(fields[0]).is_dir():
        return ShardDataset(fields[0])
    first = fields[0] if fields and fields[0] else split
    if first not in ("train", "val", "test"):
        raise ValueError(f"procedural split must be train, val or test (or an npz shard folder), got {first!r}")
    kind, n, size = "all", DEFAULT_PROCEDURAL_N, DEFAULT_PROCEDURAL_SIZE
    for f in fields[1:]:
        if f in KINDS:
            kind = f
        elif f.isdigit():
            n = int(f)
        elif re.fullmatch(r"\d+x\d+", f):
            size = parse_size(f, "procedural size")
        else:
            raise ValueError(f"bad procedural spec field {f!r}; expected indoor|outdoor|all, a count N or WxH "
                             f"(e.g. procedural:test:indoor:200:320x240)")
    sensor = opts.pop("sensor", None)
    if sensor not in (None, "kinect", "lidar", "none"):
        raise ValueError(f"procedural sensor must be kinect, lidar or none, got {sensor!r}")
    return ProceduralEvalSet(first, kind, n, size, sensor=None if sensor == "none" else sensor)


def _synthetic(fields: list[str], opts: dict[str, str], split: str) -> torch.utils.data.Dataset:
    if not all(f.isdigit() for f in fields) or len(fields) > 2:
        raise ValueError("the spec must be synthetic[:N[:SIZE]] with whole numbers")
    n, s = (int(fields[0]) if fields else 256), (int(fields[1]) if len(fields) > 1 else 32)
    return SyntheticDataset(n, s, seed={"train": 0, "val": 1}.get(split, 2))


def _folder(fields: list[str], opts: dict[str, str], split: str, depth_scale: float | None) -> torch.utils.data.Dataset:
    _need(fields, 1, 1, "folder:DIR")
    scale = opts.pop("depth_scale", None)
    return FolderDataset(fields[0], depth_scale=depth_scale if scale is None else _number(scale, "depth_scale"))


def _nyu(fields: list[str], opts: dict[str, str], split: str) -> torch.utils.data.Dataset:
    _need(fields, 1, 3, "nyu:PATH/nyu_depth_v2_labeled.mat[:SPLITS.mat[:test|train]] or nyu:SYNC_DIR:FILELIST")
    if Path(fields[0]).is_dir():
        _need(fields, 2, 2, "nyu:SYNC_DIR:FILELIST (raw frames and their file list)")
        return NYURawFrames(fields[0], fields[1])
    splits = fields[1] if len(fields) > 1 and fields[1] else None
    which = fields[2] if len(fields) > 2 else ("train" if split == "train" else "test")
    if which not in ("test", "train"):
        raise ValueError(f"nyu split must be test or train, got {which!r}")
    return NYUv2Labeled(fields[0], splits=splits, split=which)


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"option {name} must be a number, got {value!r}") from None


def _vkitti2(fields: list[str], opts: dict[str, str], split: str) -> torch.utils.data.Dataset:
    _need(fields, 1, 2, "vkitti2:ROOT[:DEPTH_ROOT][?scenes=Scene01+Scene02&variations=clone]")
    lists = {k: opts.pop(k).split("+") for k in ("scenes", "variations") if k in opts}
    return VirtualKITTI2(fields[0], fields[1] if len(fields) > 1 else None, **lists)


def _scannet(fields: list[str], opts: dict[str, str], split: str) -> torch.utils.data.Dataset:
    _need(fields, 1, 2, "scannet:ROOT[:SCENE_LIST][?step=N]")
    return ScanNetFrames(fields[0], fields[1] if len(fields) > 1 else None, int(_number(opts.pop("step", "1"), "step")))


def _images(f: list[str], o: dict[str, str], s: str) -> torch.utils.data.Dataset:
    _need(f, 1, 1, "images:DIR")
    return ImageFolder(f[0])


def _kitti(f: list[str], o: dict[str, str], s: str) -> torch.utils.data.Dataset:
    _need(f, 3, 3, "kitti:RAW_ROOT:GT_ROOT|velodyne:FILELIST")
    return KITTIEigen(*f)


def _hypersim(f: list[str], o: dict[str, str], s: str) -> torch.utils.data.Dataset:
    _need(f, 1, 2, "hypersim:ROOT[:SPLIT_CSV]")
    return Hypersim(f[0], s, f[1] if len(f) > 1 else None)


def _diode(f: list[str], o: dict[str, str], s: str) -> torch.utils.data.Dataset:
    _need(f, 1, 2, "diode:ROOT[:indoors|outdoor]")
    return DIODE(f[0], s, f[1] if len(f) > 1 else None)


def _shards(f: list[str], o: dict[str, str], s: str) -> torch.utils.data.Dataset:
    _need(f, 1, 1, "shards:DIR")
    return TarShards(f[0])


FORMS: dict[str, Callable[..., torch.utils.data.Dataset]] = {
    "procedural": _procedural, "synthetic": _synthetic, "folder": _folder, "images": _images, "nyu": _nyu,
    "kitti": _kitti, "hypersim": _hypersim, "vkitti2": _vkitti2, "scannet": _scannet, "diode": _diode,
    "shards": _shards,
}


class Selected(torch.utils.data.Subset):
    """The samples of ``dataset`` at ``indices``, keeping its ``protocol`` / ``default_crop`` and names."""

    def __init__(self, dataset: torch.utils.data.Dataset, indices: list[int]) -> None:
        super().__init__(dataset, indices)
        self.names = [dataset.names[i] for i in indices]
        for attr in ("protocol", "default_crop"):
            if hasattr(dataset, attr):
                setattr(self, attr, getattr(dataset, attr))

    def __repr__(self) -> str:
        return f"{self.dataset!r}[{len(self)} selected]"


def select_frames(dataset: torch.utils.data.Dataset, frames: str, spec: str) -> Selected:
    """Keep the samples named by ``frames`` (``A-B``: the number ending the name within [A, B]; else a file of
    names)."""
    names = getattr(dataset, "names", None)
    if names is None:
        raise ValueError(f"frames= needs a dataset whose samples have names; {spec!r} has none")
    m = re.fullmatch(r"(\d+)-(\d+)", frames)
    if m:
        lo, hi = int(m[1]), int(m[2])
        numbers = [re.search(r"(\d+)\D*$", n) for n in names]
        keep = [i for i, num in enumerate(numbers) if num and lo <= int(num[1]) <= hi]
    else:
        if not Path(frames).is_file():
            raise ValueError(f"frames={frames!r} is neither a range A-B nor a file of sample names")
        wanted = set(Path(frames).read_text(encoding="utf-8").split())
        keep = [i for i, n in enumerate(names) if n in wanted or Path(n).name in wanted]
    if not keep:
        raise ValueError(f"frames={frames} selects no sample of {spec!r}")
    return Selected(dataset, keep)


def open_dataset(spec: str, split: str = "train", *, depth_scale: float | None = None) -> torch.utils.data.Dataset:
    """The dataset named by ``spec`` (see the module docstring); ``split`` (train | val | test) applies where the
    spec leaves it open. ``depth_scale`` (units per metre) applies to ``folder:``. ``ValueError`` with one line
    naming the problem for a malformed spec, an unknown form or option, or missing / misplaced files."""
    form, fields, opts = parse_spec(spec)
    frames = opts.pop("frames", None)
    if form == "folder":
        ds = _folder(fields, opts, split, depth_scale)
    else:
        ds = FORMS[form](fields, opts, split)
    if opts:
        raise ValueError(f"unknown option(s) {sorted(opts)} for {form}: in {spec!r}")
    return select_frames(ds, frames, spec) if frames else ds


def has_depth(spec: str) -> bool:
    """False for forms without depth (``images:``): only the Palette stages can train on them."""
    return parse_spec(spec)[0] not in NO_DEPTH_FORMS


def parse_mix(text: str) -> list[tuple[str, float]]:
    """``[(spec, weight), ...]`` from ``SPEC@W,SPEC@W,...``; ``ValueError`` for a missing or non-positive weight."""
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if not parts:
        raise ValueError("data.mix is empty; write SPEC@WEIGHT,SPEC@WEIGHT,...")
    out = []
    for part in parts:
        spec, at, w = part.rpartition("@")
        if not at or not spec:
            raise ValueError(f"data.mix entry {part!r} has no weight; write SPEC@WEIGHT, e.g. procedural:train@0.7")
        weight = _number(w, f"weight of {spec}")
        if not weight > 0:
            raise ValueError(f"data.mix weight of {spec!r} must be > 0, got {w}")
        out.append((spec, weight))
    return out
