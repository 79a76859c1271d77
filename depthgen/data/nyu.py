"""NYU Depth v2: the official labeled set (``nyu_depth_v2_labeled.mat``) with the standard train/test split, and
the raw synchronized frames as the common training code distributes them (``NYURawFrames``).

The file is MATLAB v7.3 (HDF5), read with h5py. MATLAB stores arrays column-major, so h5py sees the axes
reversed: ``images`` is (1449, 3, 640, 480) uint8 = (N, C, W, H) and ``depths`` is (1449, 640, 480) float
metres = (N, W, H). Each item is transposed back to ``rgb`` (480, 640, 3) uint8 and ``depth`` (480, 640)
float32. The labeled depths are already in-painted (dense); pixels <= 0 are marked invalid anyway.

Split: the official ``splits.mat`` holds ``trainNdxs`` (795) and ``testNdxs`` (654), 1-based. A text file of
1-based indices (whitespace or newline separated) is accepted in its place. Without one, all 1449 images are
used (``split="all"``), which is *not* the standard test set.

Raw frames (the BTS / AdaBins ``sync`` dump): ``ROOT/<scene>/rgb_00045.jpg`` and ``ROOT/<scene>/sync_depth_00045.png``
(16-bit, millimetres, 0 = invalid), listed in a file of ``rgb_path depth_path [focal]`` lines relative to ROOT
(``nyudepthv2_train_files_with_gt.txt``; a leading ``/`` is ignored).

Every item carries the standard NYU colour camera ``NYU_K`` (640 x 480) and ``outdoor`` False.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from depthgen.common.io import read_depth_png
from depthgen.data.folder import read_rgb, rgbd_item
from depthgen.data.kitti import parse_filelist

SPLIT_KEYS = {"test": "testNdxs", "train": "trainNdxs"}
NYU_K = np.array([[518.8579, 0.0, 325.5824], [0.0, 519.4696, 253.7362], [0.0, 0.0, 1.0]])  # colour camera, 640x480
NYU_RAW_DEPTH_SCALE = 1000.0  # sync_depth PNG units per metre


def read_split_indices(path: str | Path, split: str = "test") -> np.ndarray:
    """0-based indices of ``split`` from ``splits.mat`` (``testNdxs`` / ``trainNdxs``, 1-based) or from a text
    file of 1-based indices. ``ValueError`` on a missing/unreadable file or a missing key."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"split file not found: {path}; give the official splits.mat or a text file of indices")
    if path.suffix.lower() == ".mat":
        if split not in SPLIT_KEYS:
            raise ValueError(f"split must be one of {list(SPLIT_KEYS)} with a splits.mat, got {split!r}")
        key = SPLIT_KEYS[split]
        values = _read_mat_key(path, key)
    else:
        try:
            values = np.array(path.read_text(encoding="utf-8").split(), dtype=np.float64)
        except (ValueError, UnicodeDecodeError):
            raise ValueError(f"{path} must hold whitespace-separated integer image indices (1-based)") from None
    values = np.asarray(values).ravel()
    if values.size == 0 or np.any(values != np.round(values)):
        raise ValueError(f"{path} must hold integer image indices (1-based), got {values[:5]}")
    idx = values.astype(np.int64)
    if idx.min() < 1:
        raise ValueError(f"{path} has index {idx.min()}; NYU split indices are 1-based (1..1449)")
    return idx - 1


def _read_mat_key(path: Path, key: str) -> np.ndarray:
    """Array ``key`` of a MATLAB file, v5 (scipy) or v7.3 (h5py)."""
    import scipy.io

    try:
        data = scipy.io.loadmat(str(path), variable_names=[key])
    except NotImplementedError:  # MATLAB v7.3 is HDF5
        import h5py

        with h5py.File(path, "r") as f:
            if key not in f:
                raise ValueError(f"{path} has no {key!r}; give the official NYU splits.mat") from None
            return np.asarray(f[key])
    except (OSError, TypeError, ValueError) as e:
        raise ValueError(f"cannot read {path} as a MATLAB file ({e})") from None
    if key not in data:
        raise ValueError(f"{path} has no {key!r}; give the official NYU splits.mat")
    return np.asarray(data[key])


class NYUv2Labeled(torch.utils.data.Dataset):
    """The labeled NYU Depth v2 images, optionally restricted to a split.

    Args:
        mat_path: ``nyu_depth_v2_labeled.mat`` (HDF5 / MATLAB v7.3).
        splits: ``splits.mat`` or a text file of 1-based indices; ``None`` uses every image.
        split: ``test`` or ``train`` (used with a ``splits.mat``).
    Items: ``rgb`` (480, 640, 3) uint8, ``depth`` (480, 640) float32 metres, ``valid`` bool, ``name``
    (``nyu_%04d`` with the 0-based index in the file), ``index`` int.
    """

    protocol = "nyu"

    def __init__(self, mat_path: str | Path, splits: str | Path | None = None, split: str = "test") -> None:
        import h5py

        self.mat_path = Path(mat_path)
        if not self.mat_path.is_file():
            raise ValueError(f"NYU file not found: {self.mat_path}; give the path of nyu_depth_v2_labeled.mat")
        try:
            with h5py.File(self.mat_path, "r") as f:
                for key in ("images", "depths"):
                    if key not in f:
                        raise ValueError(f"{self.mat_path} has no {key!r} array; is it nyu_depth_v2_labeled.mat?")
                n_img, n_depth = f["images"].shape[0], f["depths"].shape[0]
                if f["images"].ndim != 4 or f["images"].shape[1] != 3 or f["depths"].ndim != 3:
                    raise ValueError(f"{self.mat_path}: expected images (N, 3, W, H) and depths (N, W, H), got "
                                     f"{f['images'].shape} and {f['depths'].shape}")
                if n_img != n_depth or f["images"].shape[2:] != f["depths"].shape[1:]:
                    raise ValueError(f"{self.mat_path}: images {f['images'].shape} and depths {f['depths'].shape} "
                                     "do not match")
        except OSError as e:
            raise ValueError(f"cannot open {self.mat_path} as HDF5 ({e}); it must be the MATLAB v7.3 file "
                             "nyu_depth_v2_labeled.mat") from None
        self.num_total = int(n_img)
        if splits is None:
            self.split = "all"
            self.indices = np.arange(self.num_total)
        else:
            self.split = split
            self.indices = read_split_indices(splits, split)
            if self.indices.max() >= self.num_total:
                raise ValueError(f"split index {self.indices.max() + 1} exceeds the {self.num_total} images in "
                                 f"{self.mat_path}")
        self._file: Any = None
        self.names = [f"nyu_{i:04d}" for i in self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def _h5(self) -> Any:
        if self._file is None:  # opened lazily, once per process (DataLoader workers get their own)
            import h5py

            self._file = h5py.File(self.mat_path, "r")
        return self._file

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_file"] = None
        return state

    def __getitem__(self, i: int) -> dict:
        idx = int(self.indices[i])
        f = self._h5()
        rgb = np.ascontiguousarray(np.asarray(f["images"][idx]).transpose(2, 1, 0))  # (3, W, H) -> (H, W, 3)
        depth = np.ascontiguousarray(np.asarray(f["depths"][idx], dtype=np.float32).T)  # (W, H) -> (H, W)
        depth = np.where(np.isfinite(depth) & (depth > 0), depth, 0.0).astype(np.float32)
        return {**rgbd_item(rgb, depth, f"nyu_{idx:04d}", NYU_K), "index": idx}

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __repr__(self) -> str:
        return f"NYUv2Labeled({str(self.mat_path)!r}, split={self.split!r}, n={len(self)})"


class NYURawFrames(torch.utils.data.Dataset):
    """Raw synchronized NYU frames listed in a file list (see the module docstring).

    Items: ``rgb`` (480, 640, 3) uint8, ``depth`` (480, 640) float32 metres (0 = invalid), ``valid``, ``K``
    (``NYU_K``, or the list's focal with the standard principal point), ``outdoor`` False, ``name``."""

    protocol = "nyu"

    def __init__(self, root: str | Path, filelist: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ValueError(f"NYU raw frame folder not found: {self.root}; give the folder the file list is relative to")
        entries, _ = parse_filelist(filelist, "NYU")
        self.entries = [(rgb.lstrip("/"), gt.lstrip("/"), focal) for rgb, gt, focal in entries]
        missing = [self.root / p for rgb, gt, _ in self.entries for p in (rgb, gt) if not (self.root / p).is_file()]
        if missing:
            raise ValueError(f"NYU file not found: {missing[0]}{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''};"
                             " check the folder and the file list")
        self.names = [str(Path(rgb).with_suffix("")) for rgb, _, _ in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i: int) -> dict:
        rgb_rel, gt_rel, focal = self.entries[i]
        K = NYU_K.copy()
        if focal is not None:
            K[0, 0] = K[1, 1] = focal
        rgb = read_rgb(self.root / rgb_rel)
        depth = read_depth_png(self.root / gt_rel, NYU_RAW_DEPTH_SCALE)
        if depth.shape != rgb.shape[:2]:
            raise ValueError(f"{self.root / gt_rel} and {self.root / rgb_rel} differ in size")
        return rgbd_item(rgb, depth, self.names[i], K)

    def __repr__(self) -> str:
        return f"NYURawFrames({str(self.root)!r}, n={len(self)})"
