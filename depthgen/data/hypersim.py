"""Hypersim (Roberts et al. 2021) in its published layout, with ray distances turned into z-depth.

    ROOT/ai_001_001/images/scene_cam_00_final_preview/frame.0000.tonemap.jpg    tone-mapped RGB (used when present)
    ROOT/ai_001_001/images/scene_cam_00_final_hdf5/frame.0000.color.hdf5       HDR RGB ("dataset", float16 (H, W, 3))
    ROOT/ai_001_001/images/scene_cam_00_geometry_hdf5/frame.0000.depth_meters.hdf5   ("dataset", (H, W) float)
    ROOT/metadata_images_split_scene_v1.csv    optional official split (scene_name, camera_name, frame_id,
                                               included_in_public_release, exclude_reason, split_partition_name)

``depth_meters`` is the distance from the camera centre along each pixel's ray; z = d f / sqrt(f^2 + (u - cx)^2 +
(v - cy)^2) with Hypersim's camera (60 degree horizontal FOV, ``hypersim_K``). NaN (no surface) is invalid.
Without a tone-mapped JPEG the HDR image is tone-mapped as Hypersim's own code does (gamma 2.2, the 90th
percentile brightness scaled to 0.8).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from depthgen.data.folder import read_rgb, rgbd_item

SPLIT_CSV = "metadata_images_split_scene_v1.csv"


def hypersim_K(h: int = 768, w: int = 1024) -> np.ndarray:
    """(3, 3) float64 intrinsics of Hypersim's camera (60 degree horizontal field of view) at (h, w)."""
    f = w / 2 / np.tan(np.pi / 6)
    return np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]], np.float64)


def ray_to_z(distance: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(H, W) float32 z-depth from (H, W) distances along each pixel centre's ray for a pinhole ``K``."""
    h, w = distance.shape
    v, u = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    x, y = (u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1]
    return (distance / np.sqrt(1.0 + x * x + y * y)).astype(np.float32)


def _read_h5(path: Path) -> np.ndarray:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return np.asarray(f["dataset"], np.float32)
    except (OSError, KeyError) as e:
        raise ValueError(f"cannot read {path} as a Hypersim HDF5 file with a 'dataset' array ({e})") from None


def tonemap(hdr: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 from a linear HDR image, as Hypersim's tone mapper does."""
    brightness = 0.3 * hdr[..., 0] + 0.59 * hdr[..., 1] + 0.11 * hdr[..., 2]
    p90 = np.percentile(brightness[np.isfinite(brightness)], 90) if np.isfinite(brightness).any() else 0.0
    scale = 1.0 if p90 < 1e-4 else 0.8 ** 2.2 / p90
    return (np.clip(np.nan_to_num(scale * hdr) ** (1 / 2.2), 0, 1) * 255).round().astype(np.uint8)


class Hypersim(torch.utils.data.Dataset):
    """Every frame with a depth map under ``root`` (restricted to ``split`` by the official split CSV when there
    is one). Items: rgb, depth (z, m), valid, K (``hypersim_K``), outdoor False, name ``scene/cam/frame``."""

    def __init__(self, root: str | Path, split: str = "train", split_csv: str | Path | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ValueError(f"Hypersim folder not found: {self.root}")
        self.depth_files = sorted(self.root.glob("*/images/scene_cam_*_geometry_hdf5/frame.*.depth_meters.hdf5"))
        if not self.depth_files:
            raise ValueError(f"no Hypersim depth maps under {self.root}; expected "
                             "<scene>/images/scene_cam_00_geometry_hdf5/frame.0000.depth_meters.hdf5")
        csv_path = Path(split_csv) if split_csv else self.root / SPLIT_CSV
        if split_csv and not csv_path.is_file():
            raise ValueError(f"Hypersim split file not found: {csv_path}")
        if csv_path.is_file():
            keep = _split_frames(csv_path, split)
            self.depth_files = [p for p in self.depth_files if _key(p) in keep]
            if not self.depth_files:
                raise ValueError(f"no Hypersim frame of split {split!r} (by {csv_path}) under {self.root}")
        self.names = ["/".join(map(str, _key(p))) for p in self.depth_files]

    def __len__(self) -> int:
        return len(self.depth_files)

    def __getitem__(self, i: int) -> dict:
        depth_path = self.depth_files[i]
        images, frame = depth_path.parent.parent, depth_path.name.split(".")[1]
        cam = depth_path.parent.name[: -len("_geometry_hdf5")]
        jpg = images / f"{cam}_final_preview" / f"frame.{frame}.tonemap.jpg"
        rgb = read_rgb(jpg) if jpg.is_file() else tonemap(_read_h5(images / f"{cam}_final_hdf5" / f"frame.{frame}.color.hdf5"))
        dist = _read_h5(depth_path)
        K = hypersim_K(*dist.shape)
        return rgbd_item(rgb, ray_to_z(np.nan_to_num(dist, nan=0.0), K), self.names[i], K)

    def __repr__(self) -> str:
        return f"Hypersim({str(self.root)!r}, n={len(self)})"


def _key(depth_path: Path) -> tuple[str, str, int]:
    """(scene, camera, frame id) of a depth file."""
    scene = depth_path.parents[2].name
    cam = depth_path.parent.name[len("scene_"): -len("_geometry_hdf5")]
    return scene, cam, int(depth_path.name.split(".")[1])


def _split_frames(path: Path, split: str) -> set[tuple[str, str, int]]:
    """The (scene, camera, frame) keys of ``split`` in the official split CSV (public frames only)."""
    want = {"val": "val", "test": "test"}.get(split, "train")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if rows and "split_partition_name" not in rows[0]:
        raise ValueError(f"{path} is not Hypersim's split CSV (no split_partition_name column)")
    return {(r["scene_name"], r["camera_name"], int(r["frame_id"])) for r in rows
            if r["split_partition_name"] == want and r.get("included_in_public_release", "True") == "True"}
