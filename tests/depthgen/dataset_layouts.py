"""Tiny fixtures in each public dataset's own on-disk layout (for tests of depthgen.data.registry)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

H, W = 12, 16


def _rgb(i: int, h: int = H, w: int = W) -> np.ndarray:
    rng = np.random.default_rng(i)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


def _depth(i: int, h: int = H, w: int = W) -> np.ndarray:
    v = np.linspace(1.0, 3.0, h, dtype=np.float32)[:, None]
    return np.repeat(v, w, 1) + 0.1 * i


def _img(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def _png16(path: Path, value: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.asarray(value, np.uint16))


def _mat73(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A MATLAB v7.3 file: HDF5 behind MATLAB's 512-byte user block (text header, version 0x0200, 'IM')."""
    import h5py

    with h5py.File(path, "w", userblock_size=512) as f:
        for k, v in arrays.items():
            f[k] = v
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    with open(path, "r+b") as f:
        f.write(header.ljust(116) + b"\0" * 8 + b"\x00\x02" + b"IM")


def nyu_mat(root: Path, n: int = 4) -> str:
    """nyu_depth_v2_labeled.mat in MATLAB v7.3 layout (axes reversed: images (N, 3, W, H), depths (N, W, H)) and
    splits.mat (trainNdxs / testNdxs, (1, k), 1-based)."""
    root.mkdir(parents=True, exist_ok=True)
    _mat73(root / "nyu.mat", {"images": np.stack([_rgb(i).transpose(2, 1, 0) for i in range(n)]),
                              "depths": np.stack([_depth(i).T for i in range(n)]).astype(np.float64)})
    _mat73(root / "splits.mat", {"trainNdxs": np.array([[1, 2, 3]], np.float64), "testNdxs": np.array([[4]], np.float64)})
    return f"nyu:{root / 'nyu.mat'}:{root / 'splits.mat'}"


def nyu_raw(root: Path) -> str:
    lines = []
    for i in range(3):
        _img(root / "sync" / "kitchen_0028b" / f"rgb_{i:05d}.jpg", _rgb(i))
        _png16(root / "sync" / "kitchen_0028b" / f"sync_depth_{i:05d}.png", _depth(i) * 1000)
        lines.append(f"/kitchen_0028b/rgb_{i:05d}.jpg /kitchen_0028b/sync_depth_{i:05d}.png 518.8579")
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    return f"nyu:{root / 'sync'}:{root / 'train.txt'}"


def kitti(root: Path, velodyne: bool = False) -> str:
    raw, gt, date, drive = root / "raw", root / "gt", "2011_09_26", "2011_09_26_drive_0002_sync"
    (raw / date).mkdir(parents=True, exist_ok=True)
    (raw / date / "calib_cam_to_cam.txt").write_text(
        "calib_time: 09-Jan-2012 13:57:47\nR_rect_00: 1 0 0 0 1 0 0 0 1\n"
        f"P_rect_02: 10 0 {W / 2} 0 0 10 {H / 2} 0 0 0 1 0\nS_rect_02: {W} {H}\n")
    (raw / date / "calib_velo_to_cam.txt").write_text("R: 0 -1 0 0 0 -1 1 0 0\nT: 0 0 0\n")  # velo x fwd -> cam z
    lines = []
    for i in range(3):
        rgb_rel = f"{date}/{drive}/image_02/data/{i:010d}.png"
        _img(raw / rgb_rel, _rgb(i))
        scan = raw / date / drive / "velodyne_points" / "data" / f"{i:010d}.bin"
        scan.parent.mkdir(parents=True, exist_ok=True)
        np.array([[2.0 + i, 0.0, 0.0, 1.0], [4.0, 0.5, 0.2, 1.0]], np.float32).tofile(scan)
        gt_rel = f"{drive}/proj_depth/groundtruth/image_02/{i:010d}.png"
        _png16(gt / gt_rel, _depth(i) * 256)
        lines.append(f"{rgb_rel} {gt_rel} 721.5377" if not velodyne else f"{date}/{drive} {i} l")
    (root / "list.txt").write_text("\n".join(lines) + "\n")
    return f"kitti:{raw}:{'velodyne' if velodyne else gt}:{root / 'list.txt'}"


def hypersim(root: Path) -> str:
    import h5py

    for frame in range(2):
        images = root / "ai_001_001" / "images"
        (images / "scene_cam_00_geometry_hdf5").mkdir(parents=True, exist_ok=True)
        dist = _depth(frame)
        dist[0, 0] = np.nan  # no surface
        with h5py.File(images / "scene_cam_00_geometry_hdf5" / f"frame.{frame:04d}.depth_meters.hdf5", "w") as f:
            f["dataset"] = dist.astype(np.float16)
        if frame == 0:
            _img(images / "scene_cam_00_final_preview" / f"frame.{frame:04d}.tonemap.jpg", _rgb(frame))
        else:  # only the HDR colour: tone-mapped by the reader
            (images / "scene_cam_00_final_hdf5").mkdir(parents=True, exist_ok=True)
            with h5py.File(images / "scene_cam_00_final_hdf5" / f"frame.{frame:04d}.color.hdf5", "w") as f:
                f["dataset"] = (_rgb(frame) / 255.0).astype(np.float16)
    return f"hypersim:{root}"


def vkitti2(root: Path) -> str:
    base = root / "Scene01" / "clone"
    for i in range(2):
        _img(base / "frames" / "rgb" / "Camera_0" / f"rgb_{i:05d}.jpg", _rgb(i))
        cm = _depth(i) * 100
        cm[0, :] = 65535  # sky
        _png16(base / "frames" / "depth" / "Camera_0" / f"depth_{i:05d}.png", cm)
    (base / "intrinsic.txt").write_text("frame cameraID K[0,0] K[1,1] K[0,2] K[1,2]\n0 0 20 20 8 6\n1 0 20 20 8 6\n")
    return f"vkitti2:{root}"


def scannet(root: Path) -> str:
    scene = root / "scene0000_00"
    for i in range(2):
        _img(scene / "color" / f"{i}.jpg", _rgb(i, 2 * H, 2 * W))
        _png16(scene / "depth" / f"{i}.png", _depth(i) * 1000)
    (scene / "intrinsic").mkdir(parents=True, exist_ok=True)
    np.savetxt(scene / "intrinsic" / "intrinsic_depth.txt", [[12, 0, 8, 0], [0, 12, 6, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    return f"scannet:{root}"


def diode(root: Path) -> str:
    for part, kind in ((p, k) for p in ("train", "val") for k in ("indoors", "outdoor")):
        scan = root / part / kind / "scene_00019" / "scan_00183"
        name = f"00019_00183_{kind}_000_010"
        _img(scan / f"{name}.png", _rgb(1))
        np.save(scan / f"{name}_depth.npy", _depth(1)[..., None])
        mask = np.ones((H, W), np.float32)
        mask[:2] = 0
        np.save(scan / f"{name}_depth_mask.npy", mask)
    return f"diode:{root}"


def folder(root: Path, names=("000000", "000596", "000600")) -> str:
    from depthgen.data.folder import write_folder_meta, write_folder_sample

    for i, name in enumerate(names):
        write_folder_sample(root, name, _rgb(i), _depth(i))
    write_folder_meta(root, 1000, K=[[20, 0, 8], [0, 20, 6], [0, 0, 1]])
    (root / "samples.json").write_text(json.dumps({names[0]: {"K": [[30, 0, 8], [0, 30, 6], [0, 0, 1]],
                                                              "outdoor": True}}))
    return f"folder:{root}"


def images(root: Path) -> str:
    for i in range(3):
        _img(root / "holiday" / f"photo_{i}.jpg", _rgb(i))
    return f"images:{root}"


LAYOUTS = {"nyu_mat": nyu_mat, "nyu_raw": nyu_raw, "kitti": kitti,
           "kitti_velodyne": lambda root: kitti(root, velodyne=True), "hypersim": hypersim, "vkitti2": vkitti2,
           "scannet": scannet, "diode": diode, "folder": folder, "images": images}
