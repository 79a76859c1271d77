"""Evaluation datasets from ``--data`` specs, and the procedural test split as a Dataset.

Spec forms (fields separated by ``:``)::

    procedural:SPLIT[:indoor|outdoor|all][:N][:WxH]   e.g. procedural:test:indoor:200 (default all, N=100, 320x240)
    folder:DIR                                         the generic folder format (depthgen/data/folder.py)
    nyu:MAT[:SPLITS[:test|train]]                      nyu_depth_v2_labeled.mat [+ splits.mat or index file]
    kitti:RGB_ROOT:GT_ROOT:FILELIST                    Eigen-split file list (depthgen/data/kitti.py)

Every dataset yields dicts with ``rgb`` (H, W, 3) uint8, ``depth`` (H, W) float32 metres (0 = invalid),
``valid`` (H, W) bool and ``name``. Datasets carry their default evaluation protocol in ``protocol`` (a
``depthgen.evaluation.metrics.PROTOCOLS`` name); a sample may carry its own in ``sample["protocol"]`` (procedural
scenes: ``nyu`` caps indoors, ``kitti`` caps outdoors). ``default_crop`` (when set) replaces the protocol's
crop: the Eigen and Garg crops describe NYU/KITTI sensor frames, so procedural sets use ``"none"``.
"""

from __future__ import annotations

import re

import numpy as np
import torch

from depthgen.common.cli import format_size, parse_size
from depthgen.data.folder import FolderDataset
from depthgen.data.kitti import KITTIEigen
from depthgen.data.nyu import NYUv2Labeled

KINDS = ("all", "indoor", "outdoor")
DEFAULT_PROCEDURAL_N = 100
DEFAULT_PROCEDURAL_SIZE = (240, 320)  # (H, W); typed as 320x240
SPEC_HELP = ("procedural:test[:indoor|outdoor][:N][:WxH], folder:DIR, nyu:PATH.mat[:SPLITS.mat], "
             "kitti:RGB_ROOT:GT_ROOT:FILELIST")


class ProceduralEvalSet(torch.utils.data.Dataset):
    """The first ``n`` procedural scenes of a split (optionally only indoor or only outdoor ones), rendered
    on demand with clean depth as ground truth (``generate_sample(split_seed(split, i), size, sensor=None)``).

    Filtering by kind needs a render to know a scene's kind; matching seed indices are found by scanning
    forward and remembered, and the last rendered sample is cached, so reading the set in order renders each
    scene once. Items add ``outdoor``, ``scene_type``, ``caption``, ``seed_index``, ``protocol`` and ``K`` (3, 3).
    """

    default_crop = "none"

    def __init__(self, split: str = "test", kind: str = "all", n: int = DEFAULT_PROCEDURAL_N,
                 size: tuple[int, int] = DEFAULT_PROCEDURAL_SIZE, max_scan: int | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"procedural kind must be one of {KINDS}, got {kind!r}")
        if n < 1:
            raise ValueError(f"number of procedural samples must be >= 1, got {n}")
        if len(size) != 2 or min(size) < 8:
            raise ValueError(f"procedural image size (height, width) must both be >= 8, got {size}")
        self.split, self.kind, self.n, self.size = split, kind, int(n), (int(size[0]), int(size[1]))
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
        from depthgen.data.procedural import generate_sample, split_seed

        sample = generate_sample(split_seed(self.split, i), size=self.size, sensor=None)
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
        return {"rgb": np.asarray(s["rgb"], dtype=np.uint8), "depth": np.where(valid, depth, 0).astype(np.float32),
                "valid": valid, "name": f"{self.split}_{i:05d}", "seed_index": i, "outdoor": outdoor,
                "scene_type": str(s.get("scene_type", "")), "caption": str(s.get("caption", "")),
                "protocol": "kitti" if outdoor else "nyu", "K": None if s.get("K") is None else np.asarray(s["K"], dtype=np.float64)}

    def __repr__(self) -> str:
        return (f"ProceduralEvalSet(split={self.split!r}, kind={self.kind!r}, n={self.n}, "
                f"size={format_size(*self.size)})")


def _parse_procedural(fields: list[str]) -> ProceduralEvalSet:
    if not fields or not fields[0]:
        raise ValueError(f"procedural spec needs a split, e.g. procedural:test:indoor:200 ({SPEC_HELP})")
    split, kind, n, size = fields[0], "all", DEFAULT_PROCEDURAL_N, DEFAULT_PROCEDURAL_SIZE
    if split not in ("train", "val", "test"):
        raise ValueError(f"procedural split must be train, val or test, got {split!r}")
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
    return ProceduralEvalSet(split, kind, n, size)


def parse_data_spec(spec: str, *, depth_scale: float | None = None) -> torch.utils.data.Dataset:
    """Build the evaluation dataset named by ``spec`` (see the module docstring).

    ``depth_scale`` (units per metre) applies to ``folder:`` specs and overrides the folder's meta.json.
    Raises ``ValueError`` with a one-line message for a malformed spec or missing files.
    """
    kind, _, rest = spec.partition(":")
    fields = rest.split(":") if rest else []
    if kind == "procedural":
        return _parse_procedural(fields)
    if kind == "folder":
        if len(fields) < 1 or not rest:
            raise ValueError("folder spec needs a directory: folder:DIR")

        return FolderDataset(rest, depth_scale=depth_scale)
    if kind == "nyu":
        if not 1 <= len(fields) <= 3 or not fields[0]:
            raise ValueError("nyu spec must be nyu:PATH/nyu_depth_v2_labeled.mat[:SPLITS.mat[:test|train]]")

        splits = fields[1] if len(fields) > 1 and fields[1] else None
        split = fields[2] if len(fields) > 2 else "test"
        if split not in ("test", "train"):
            raise ValueError(f"nyu split must be test or train, got {split!r}")
        return NYUv2Labeled(fields[0], splits=splits, split=split)
    if kind == "kitti":
        if len(fields) != 3 or not all(fields):
            raise ValueError("kitti spec must be kitti:RGB_ROOT:GT_ROOT:FILELIST")

        return KITTIEigen(*fields)
    raise ValueError(f"unknown data spec {spec!r}; use one of {SPEC_HELP}")


def dataset_default_protocol(dataset: object, item: dict | None = None) -> str:
    """The protocol name a dataset (or one of its items) asks for when the user names none."""
    if item is not None and item.get("protocol"):
        return str(item["protocol"])
    return getattr(dataset, "protocol", None) or "none"

