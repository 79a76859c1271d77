"""KITTI depth evaluation (Eigen split) from a file list of RGB / ground-truth pairs.

File list: one sample per line, ``rgb_path gt_path [focal]``, paths relative to ``rgb_root`` and ``gt_root``,
e.g. (the BTS ``eigen_test_files_with_gt.txt`` layout)::

    2011_09_26/2011_09_26_drive_0002_sync/image_02/data/0000000069.png 2011_09_26_drive_0002_sync/proj_depth/groundtruth/image_02/0000000069.png 721.5377

Lines whose gt_path is ``None`` (frames without annotated depth) are skipped and counted in ``num_skipped``;
blank lines and ``#`` comments are ignored. Ground truth: 16-bit PNG, depth = value / 256 m, 0 = invalid
(the KITTI depth benchmark format). Items: ``rgb`` (H, W, 3) uint8, ``depth`` (H, W) float32 metres,
``valid`` bool, ``name`` (the RGB path without extension), and ``focal`` (pixels) when the list gives one.
"""

from __future__ import annotations

from pathlib import Path

import torch

from depthgen.common.io import read_depth_png
from depthgen.data.folder import read_rgb

KITTI_DEPTH_SCALE = 256.0  # PNG units per metre


def parse_filelist(path: str | Path) -> tuple[list[tuple[str, str, float | None]], int]:
    """``([(rgb_rel, gt_rel, focal or None), ...], num_skipped)`` from a KITTI file list."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"KITTI file list not found: {path}; give a text file of 'rgb_path gt_path [focal]' lines")
    entries: list[tuple[str, str, float | None]] = []
    skipped = 0
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) < 2 or len(parts) > 3 or not parts[0].lower().endswith((".png", ".jpg", ".jpeg")):
            raise ValueError(f"{path}:{lineno}: expected 'rgb_path gt_path [focal]', got {line!r}")
        if parts[1] == "None":
            skipped += 1
            continue
        focal = None
        if len(parts) == 3:
            try:
                focal = float(parts[2])
            except ValueError:
                raise ValueError(f"{path}:{lineno}: focal length {parts[2]!r} is not a number") from None
        entries.append((parts[0], parts[1], focal))
    if not entries:
        raise ValueError(f"{path} lists no sample with ground truth")
    return entries, skipped


class KITTIEigen(torch.utils.data.Dataset):
    """KITTI frames and their projected ground-truth depth, as listed in an Eigen-split file list.

    Args:
        rgb_root: folder the RGB paths are relative to (the raw KITTI data root).
        gt_root: folder the ground-truth paths are relative to (the KITTI depth annotations root).
        filelist: the file list (see the module docstring).
    All listed files are checked to exist up front.
    """

    protocol = "kitti"

    def __init__(self, rgb_root: str | Path, gt_root: str | Path, filelist: str | Path) -> None:
        self.rgb_root, self.gt_root = Path(rgb_root), Path(gt_root)
        for label, root in (("RGB root", self.rgb_root), ("ground-truth root", self.gt_root)):
            if not root.is_dir():
                raise ValueError(f"KITTI {label} not found: {root}")
        self.entries, self.num_skipped = parse_filelist(filelist)
        missing = [p for rgb, gt, _ in self.entries
                   for p in (self.rgb_root / rgb, self.gt_root / gt) if not p.is_file()]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise ValueError(f"KITTI file not found: {missing[0]}{more}; check the roots and the file list")

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> dict:
        rgb_rel, gt_rel, focal = self.entries[index]
        rgb = read_rgb(self.rgb_root / rgb_rel)
        depth = read_depth_png(self.gt_root / gt_rel, KITTI_DEPTH_SCALE)
        if depth.shape != rgb.shape[:2]:
            raise ValueError(f"{self.gt_root / gt_rel} is {depth.shape[1]}x{depth.shape[0]} but its RGB image is "
                             f"{rgb.shape[1]}x{rgb.shape[0]}; they must have the same size")
        item = {"rgb": rgb, "depth": depth, "valid": depth > 0, "name": str(Path(rgb_rel).with_suffix(""))}
        if focal is not None:
            item["focal"] = focal
        return item

    def __repr__(self) -> str:
        return (f"KITTIEigen(rgb_root={str(self.rgb_root)!r}, gt_root={str(self.gt_root)!r}, n={len(self)}, "
                f"skipped={self.num_skipped})")
