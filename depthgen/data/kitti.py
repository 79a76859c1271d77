"""KITTI (Eigen split) from a file list over the raw drives, with the annotated depth maps or projected velodyne.

File list: one sample per line, paths relative to ``rgb_root`` and ``gt_root``. Accepted lines:

    2011_09_26/2011_09_26_drive_0002_sync/image_02/data/0000000069.png 2011_09_26_drive_0002_sync/proj_depth/groundtruth/image_02/0000000069.png 721.5377
    2011_09_26/2011_09_26_drive_0002_sync/image_02/data/0000000069.png          (RGB only: velodyne ground truth)
    2011_09_26/2011_09_26_drive_0002_sync 69 l                                  (monodepth2 splits/eigen*)

The first is the BTS ``eigen_*_files_with_gt.txt`` layout; lines whose gt path is ``None`` (frames without
annotated depth) are skipped and counted in ``num_skipped`` unless the ground truth is velodyne. Blank lines and
``#`` comments are ignored.

Ground truth (``gt_root``): the KITTI depth benchmark's ``proj_depth/groundtruth`` PNGs (16-bit, value / 256 m, 0 =
invalid), or ``velodyne``: each frame's ``velodyne_points/data/<frame>.bin`` projected through the drive's
calibration (the nearest return per pixel; z-depth in the rectified camera).

Camera: ``K`` from the drive date's ``calib_cam_to_cam.txt`` (``P_rect_02`` / ``P_rect_03`` by the image folder)
under ``rgb_root``; without it, the list's focal with the principal point at the image centre, else none. Items:
``rgb`` (H, W, 3) uint8, ``depth`` (H, W) float32 metres, ``valid`` bool, ``name`` (the RGB path without
extension), ``outdoor`` True, ``K`` (3, 3), and ``focal`` (pixels) when the list gives one.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from depthgen.common.io import read_depth_png
from depthgen.data.folder import read_rgb, rgbd_item

KITTI_DEPTH_SCALE = 256.0  # PNG units per metre
VELODYNE = "velodyne"
Entry = tuple[str, "str | None", "float | None"]


def _parse_line(parts: list[str], where: str) -> Entry:
    """One file-list line as (rgb_rel, gt_rel or None, focal or None)."""
    if len(parts) == 3 and parts[1].isdigit() and parts[2] in ("l", "r"):  # monodepth2: folder frame side
        cam = "02" if parts[2] == "l" else "03"
        return f"{parts[0]}/image_{cam}/data/{int(parts[1]):010d}.png", None, None
    if not 1 <= len(parts) <= 3 or not parts[0].lower().endswith((".png", ".jpg", ".jpeg")):
        raise ValueError(f"{where}: expected 'rgb_path [gt_path [focal]]', got {' '.join(parts)!r}")
    gt = None if len(parts) < 2 or parts[1] == "None" else parts[1]
    focal = None
    if len(parts) == 3:
        try:
            focal = float(parts[2])
        except ValueError:
            raise ValueError(f"{where}: focal length {parts[2]!r} is not a number") from None
    return parts[0], gt, focal


def parse_filelist(path: str | Path, what: str = "KITTI", keep_missing: bool = False) -> tuple[list[Entry], int]:
    """``([(rgb_rel, gt_rel or None, focal or None), ...], num_skipped)`` from a file list; lines without ground
    truth are skipped (and counted) unless ``keep_missing``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} file list not found: {path}; give a text file of 'rgb_path gt_path [focal]' lines")
    entries: list[Entry] = []
    skipped = 0
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            entry = _parse_line(line.split(), f"{path}:{lineno}")
            if entry[1] is None and not keep_missing:
                skipped += 1
            else:
                entries.append(entry)
    if not entries:
        raise ValueError(f"{path} lists no sample with ground truth (lines 'rgb_path gt_path [focal]'; lists of RGB "
                         f"frames only need velodyne ground truth: kitti:RAW_ROOT:velodyne:LIST)")
    return entries, skipped


def read_calib_file(path: Path) -> dict[str, np.ndarray]:
    """A KITTI calibration text file (``key: v1 v2 ...`` lines) as {key: float64 array}."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition(":")
        try:
            out[key.strip()] = np.array(values.split(), np.float64)
        except ValueError:
            pass  # calib_time and other non-numeric lines
    return out


@lru_cache(maxsize=64)
def _calib(date_dir: str) -> dict[str, np.ndarray] | None:
    path = Path(date_dir) / "calib_cam_to_cam.txt"
    return read_calib_file(path) if path.is_file() else None


def _camera(rgb_rel: str) -> str:
    return "03" if "image_03" in rgb_rel else "02"


def drive_intrinsics(rgb_root: Path, rgb_rel: str) -> np.ndarray | None:
    """K (3, 3) of the frame's rectified camera from its drive date's ``calib_cam_to_cam.txt`` (None: no file)."""
    cam = _calib(str(rgb_root / Path(rgb_rel).parts[0]))
    if cam is None or f"P_rect_{_camera(rgb_rel)}" not in cam:
        return None
    return cam[f"P_rect_{_camera(rgb_rel)}"].reshape(3, 4)[:, :3].copy()


def velodyne_depth(rgb_root: Path, rgb_rel: str, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 z-depth (m) of the frame's velodyne scan projected into its rectified camera (0 = no return);
    the nearest return wins where several fall on one pixel."""
    rel = Path(rgb_rel)
    date_dir, drive_dir = rgb_root / rel.parts[0], rgb_root / rel.parts[0] / rel.parts[1]
    scan = drive_dir / "velodyne_points" / "data" / f"{rel.stem}.bin"
    velo_cal, cam = date_dir / "calib_velo_to_cam.txt", _calib(str(date_dir))
    for p in (scan, velo_cal):
        if not p.is_file():
            raise ValueError(f"KITTI velodyne ground truth needs {p}; check the raw data root")
    if cam is None:
        raise ValueError(f"KITTI velodyne ground truth needs {date_dir / 'calib_cam_to_cam.txt'}")
    v2c = read_calib_file(velo_cal)
    velo_to_cam = np.eye(4)
    velo_to_cam[:3] = np.hstack([v2c["R"].reshape(3, 3), v2c["T"].reshape(3, 1)])
    rect = np.eye(4)
    rect[:3, :3] = cam["R_rect_00"].reshape(3, 3)
    P = cam[f"P_rect_{_camera(rgb_rel)}"].reshape(3, 4) @ rect @ velo_to_cam  # (3, 4) velodyne -> image
    pts = np.fromfile(scan, np.float32).reshape(-1, 4).astype(np.float64)
    pts = pts[pts[:, 0] >= 0]  # in front of the car
    pts[:, 3] = 1.0
    proj = pts @ P.T  # (N, 3): u z, v z, z
    z = proj[:, 2]
    keep = z > 0
    u = np.round(proj[keep, 0] / z[keep]).astype(np.int64) - 1
    v = np.round(proj[keep, 1] / z[keep]).astype(np.int64) - 1
    z = z[keep]
    inside = (u >= 0) & (v >= 0) & (u < shape[1]) & (v < shape[0])
    u, v, z = u[inside], v[inside], z[inside]
    depth = np.zeros(shape, np.float32)
    order = np.argsort(-z)  # far first, so the nearest return is written last
    depth[v[order], u[order]] = z[order]
    return depth


class KITTIEigen(torch.utils.data.Dataset):
    """KITTI frames and their ground-truth depth, as listed in an Eigen-split file list.

    Args:
        rgb_root: the raw KITTI data root (``<date>/<drive>/image_02/data/*.png``, ``<date>/calib_*.txt``).
        gt_root: the KITTI depth annotations root, or ``"velodyne"`` (project the raw scans).
        filelist: the file list (see the module docstring).
    All listed files are checked to exist up front.
    """

    protocol = "kitti"

    def __init__(self, rgb_root: str | Path, gt_root: str | Path, filelist: str | Path) -> None:
        self.velodyne = str(gt_root) == VELODYNE
        self.rgb_root, self.gt_root = Path(rgb_root), Path(gt_root)
        for label, root in (("RGB root", self.rgb_root), ("ground-truth root", self.gt_root)):
            if not root.is_dir() and not (self.velodyne and root == self.gt_root):
                raise ValueError(f"KITTI {label} not found: {root}")
        self.entries, self.num_skipped = parse_filelist(filelist, keep_missing=self.velodyne)
        paths = [self.rgb_root / rgb for rgb, _, _ in self.entries]
        if not self.velodyne:
            paths += [self.gt_root / gt for _, gt, _ in self.entries]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise ValueError(f"KITTI file not found: {missing[0]}{more}; check the roots and the file list")
        self.names = [str(Path(rgb).with_suffix("")) for rgb, _, _ in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> dict:
        rgb_rel, gt_rel, focal = self.entries[index]
        rgb = read_rgb(self.rgb_root / rgb_rel)
        if self.velodyne:
            depth = velodyne_depth(self.rgb_root, rgb_rel, rgb.shape[:2])
        else:
            depth = read_depth_png(self.gt_root / gt_rel, KITTI_DEPTH_SCALE)
        if depth.shape != rgb.shape[:2]:
            raise ValueError(f"{self.gt_root / gt_rel} is {depth.shape[1]}x{depth.shape[0]} but its RGB image is "
                             f"{rgb.shape[1]}x{rgb.shape[0]}; they must have the same size")
        K = drive_intrinsics(self.rgb_root, rgb_rel)
        if K is None and focal is not None:
            h, w = depth.shape
            K = np.array([[focal, 0, w / 2], [0, focal, h / 2], [0, 0, 1]], np.float64)
        item = rgbd_item(rgb, depth, self.names[index], K, outdoor=True)
        if focal is not None:
            item["focal"] = focal
        return item

    def __repr__(self) -> str:
        return (f"KITTIEigen(rgb_root={str(self.rgb_root)!r}, gt_root={str(self.gt_root)!r}, n={len(self)}, "
                f"skipped={self.num_skipped})")
