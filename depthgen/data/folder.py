"""The generic folder format for RGB + depth pairs, its reader (a torch Dataset) and a writer.

Layout::

    DIR/rgb/<name>.png | .jpg | .jpeg      8-bit RGB (grey or RGBA are converted to RGB)
    DIR/depth/<name>.png                   16-bit single-channel PNG; value / depth_scale = metres; 0 = invalid
    DIR/meta.json                          {"depth_scale": 1000}   units per metre (1000: millimetres)
                                           optional "protocol": "nyu" | "kitti" | "none" (evaluation default)
                                           optional "K": 3x3 pinhole intrinsics in pixels of the RGB images
                                           optional "outdoor": true (every sample is outdoors / has sky)
    DIR/poses.json                         optional camera poses: {"poses": {<name>: 4x4 cam_to_world}} (OpenCV
                                           camera: x right, y down, z forward; metres), one per sample
    DIR/samples.json                       optional per-sample camera and sky flag, overriding meta.json:
                                           {<name>: {"K": 3x3, "outdoor": true}} (any subset of names and keys)

The depth scale comes from the ``depth_scale`` argument (CLI ``--depth-scale``) or else ``meta.json``. Samples are
sorted by name. Every RGB image needs a depth map of the same size; depth maps without an RGB image are
ignored. Each item is a dict: ``rgb`` (H, W, 3) uint8, ``depth`` (H, W) float32 metres (0 = invalid),
``valid`` (H, W) bool, ``name`` str, ``outdoor`` bool; plus ``K`` (3, 3) float64 when ``samples.json`` or
``meta.json`` has one and ``cam_to_world`` (4, 4) float64 when ``poses.json`` exists (an RGB-D sequence such as
the shared 7-Scenes set).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from depthgen.common.io import atomic_path, read_depth_png, write_depth_png, write_json
from depthgen.evaluation.metrics import PROTOCOLS

RGB_EXTS = (".png", ".jpg", ".jpeg")


def read_rgb(path: str | Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB from an image file; ``ValueError`` naming the file if it cannot be read."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"cannot read image {path}; check that it is a valid PNG/JPEG file")
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    if img.dtype != np.uint8:
        raise ValueError(f"image {path} has unsupported dtype {img.dtype}; save it as 8-bit RGB")
    if img.ndim == 2:
        return np.repeat(img[:, :, None], 3, axis=2)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    if img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    raise ValueError(f"image {path} has {img.shape[2]} channels; save it as RGB")


def _write_bgr(path: Path, img: np.ndarray) -> None:
    import cv2

    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), img):
            raise ValueError(f"cannot write {path}; check the folder exists and is writable")


def write_folder_sample(root: str | Path, name: str, rgb: np.ndarray, depth: np.ndarray,
                        depth_scale: float = 1000.0) -> None:
    """Add one pair to a folder dataset: ``rgb/<name>.png`` ((H, W, 3) uint8, or float in [0, 1]) and
    ``depth/<name>.png`` ((H, W) metres, 0 = invalid). Call ``write_folder_meta`` once for the folder."""
    import cv2

    root = Path(root)
    (root / "rgb").mkdir(parents=True, exist_ok=True)
    (root / "depth").mkdir(parents=True, exist_ok=True)
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        rgb = np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
    _write_bgr(root / "rgb" / f"{name}.png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    write_depth_png(root / "depth" / f"{name}.png", depth, depth_scale)


def write_folder_meta(root: str | Path, depth_scale: float, **extra: Any) -> None:
    """Write ``meta.json`` with ``depth_scale`` (units per metre) and any extra keys (e.g. ``protocol``)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    write_json(root / "meta.json", {"depth_scale": depth_scale, **extra})


def _read_json_object(path: Path, example: str) -> dict:
    """A JSON object file as a dict ({} when absent); ``ValueError`` naming the file and an ``example``."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"cannot parse {path} ({e}); it must be JSON like {example}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object like {example}")
    return data


def read_folder_meta(root: str | Path) -> dict:
    """The folder's ``meta.json`` as a dict ({} when absent); ``ValueError`` if it is not a JSON object."""
    meta = _read_json_object(Path(root) / "meta.json", '{"depth_scale": 1000}')
    return meta


def read_folder_intrinsics(meta: dict, where: str | Path) -> np.ndarray | None:
    """``meta["K"]`` as a (3, 3) float64 array (None when absent); ``ValueError`` if it is not a valid pinhole K."""
    if meta.get("K") is None:
        return None
    try:
        K = np.asarray(meta["K"], dtype=np.float64)
    except (TypeError, ValueError):
        K = np.zeros(0)
    if K.shape != (3, 3) or not np.isfinite(K).all() or not (K[0, 0] > 0 and K[1, 1] > 0):
        raise ValueError(f"{where}: \"K\" must be a 3x3 intrinsics matrix with positive focal lengths, "
                         f"like [[525, 0, 320], [0, 525, 240], [0, 0, 1]]")
    return K


def rgbd_item(rgb: np.ndarray, depth: np.ndarray, name: str, K: np.ndarray | None = None, outdoor: bool = False,
              valid: np.ndarray | None = None) -> dict[str, Any]:
    """The item every dataset of ``depthgen.data`` yields: ``rgb`` (H, W, 3) uint8, ``depth`` (H, W) float32 metres
    z-depth with 0 wherever it is not valid, ``valid`` (H, W) bool, ``name``, ``outdoor`` and ``K`` (3, 3) float64
    (omitted when unknown). ``valid`` defaults to finite depth > 0 and is narrowed to it in any case."""
    depth = np.asarray(depth, np.float32)
    ok = np.isfinite(depth) & (depth > 0)
    if valid is not None:
        ok &= np.asarray(valid, bool)
    item: dict[str, Any] = {"rgb": np.asarray(rgb, np.uint8), "depth": np.where(ok, depth, 0.0).astype(np.float32),
                            "valid": ok, "name": name, "outdoor": bool(outdoor)}
    if K is not None:
        item["K"] = np.asarray(K, np.float64).copy()
    return item


def read_folder_samples(root: str | Path) -> dict[str, dict]:
    """``DIR/samples.json`` as {name: {"K": (3, 3) float64, "outdoor": bool}} ({} when absent)."""
    path = Path(root) / "samples.json"
    data = _read_json_object(path, '{"000000": {"K": 3x3, "outdoor": true}}')
    if not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path} must map each sample name to {{\"K\": 3x3, \"outdoor\": bool}}")
    out = {}
    for name, rec in data.items():
        K = read_folder_intrinsics(rec, f"{path} ({name})")
        out[str(name)] = {k: v for k, v in (("K", K), ("outdoor", rec.get("outdoor"))) if v is not None}
    return out


def read_folder_poses(root: str | Path) -> dict[str, np.ndarray] | None:
    """``DIR/poses.json`` as {name: (4, 4) float64 cam_to_world} (None when the file is absent).

    The file holds ``{"poses": {name: 4x4}}`` (other top-level keys, e.g. ``"convention"``, are ignored) or the
    name -> 4x4 mapping itself. ``ValueError`` naming the file for anything else."""
    path = Path(root) / "poses.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"cannot parse {path} ({e}); it must be JSON like {{\"poses\": {{\"000000\": 4x4}}}}") from None
    poses = data.get("poses", data) if isinstance(data, dict) else None
    if not isinstance(poses, dict):
        raise ValueError(f"{path} must hold {{\"poses\": {{name: 4x4 cam_to_world}}}}")
    out: dict[str, np.ndarray] = {}
    for name, m in poses.items():
        try:
            T = np.asarray(m, dtype=np.float64)
        except (TypeError, ValueError):
            T = np.zeros(0)
        if T.shape != (4, 4) or not np.isfinite(T).all():
            raise ValueError(f"{path}: the pose of {name!r} is not a finite 4x4 matrix")
        out[str(name)] = T
    return out


class FolderDataset(torch.utils.data.Dataset):
    """RGB + depth pairs in the generic folder format (see the module docstring).

    Args:
        root: the dataset folder (holding ``rgb/`` and ``depth/``).
        depth_scale: depth PNG units per metre; overrides ``meta.json``. Required if ``meta.json`` has none.
    Attributes:
        names: sorted sample names; ``depth_scale``; ``protocol``: ``meta.json``'s ``"protocol"`` or ``None``;
        ``K``: (3, 3) float64 from ``meta.json`` or ``None``; ``poses``: {name: (4, 4) cam_to_world} from
        ``poses.json`` or ``None`` (when present, every sample must have a pose).
    """

    def __init__(self, root: str | Path, depth_scale: float | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ValueError(f"dataset folder not found: {self.root}; give a folder holding rgb/ and depth/")
        rgb_dir, depth_dir = self.root / "rgb", self.root / "depth"
        for d in (rgb_dir, depth_dir):
            if not d.is_dir():
                raise ValueError(f"{self.root} has no {d.name}/ subfolder; expected {self.root}/rgb/<name>.png "
                                 f"and {self.root}/depth/<name>.png")
        meta = read_folder_meta(self.root)
        if depth_scale is None:
            depth_scale = meta.get("depth_scale")
        if depth_scale is None:
            raise ValueError(f"no depth scale for {self.root}; pass --depth-scale (units per metre, e.g. 1000 for "
                             f"millimetres) or write {self.root / 'meta.json'} with {{\"depth_scale\": 1000}}")
        try:
            depth_scale = float(depth_scale)
        except (TypeError, ValueError):
            raise ValueError(f"depth_scale must be a positive number, got {depth_scale!r}") from None
        if not depth_scale > 0:
            raise ValueError(f"depth_scale must be a positive number, got {depth_scale!r}")
        self.depth_scale = depth_scale
        self.protocol: str | None = meta.get("protocol")
        if self.protocol is not None:
            if self.protocol not in PROTOCOLS:
                raise ValueError(f"{self.root / 'meta.json'}: unknown protocol {self.protocol!r}; "
                                 f"choose from {list(PROTOCOLS)}")

        rgb_files: dict[str, Path] = {}
        for p in sorted(rgb_dir.iterdir()):
            if p.suffix.lower() in RGB_EXTS and not p.name.startswith("."):
                if p.stem in rgb_files:
                    raise ValueError(f"two RGB images named {p.stem!r} in {rgb_dir}; keep one")
                rgb_files[p.stem] = p
        if not rgb_files:
            raise ValueError(f"no RGB images (.png/.jpg) in {rgb_dir}")
        missing = [n for n in rgb_files if not (depth_dir / f"{n}.png").is_file()]
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise ValueError(f"RGB image {rgb_files[missing[0]].name} has no depth map "
                             f"{depth_dir / (missing[0] + '.png')}{more}; add it or remove the image")
        self.names = sorted(rgb_files)
        self._rgb_files = rgb_files
        self.K = read_folder_intrinsics(meta, self.root / "meta.json")
        self.poses = read_folder_poses(self.root)
        self.samples = read_folder_samples(self.root)
        self.outdoor = bool(meta.get("outdoor", meta.get("kind") == "outdoor"))
        if self.poses is not None:
            no_pose = [n for n in self.names if n not in self.poses]
            if no_pose:
                raise ValueError(f"{self.root / 'poses.json'} has no pose for {no_pose[0]!r}"
                                 f"{f' and {len(no_pose) - 1} more' if len(no_pose) > 1 else ''}; add one per image")

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> dict:
        name = self.names[index]
        rgb = read_rgb(self._rgb_files[name])
        depth_path = self.root / "depth" / f"{name}.png"
        depth = read_depth_png(depth_path, self.depth_scale)
        if depth.shape != rgb.shape[:2]:
            raise ValueError(f"{depth_path} is {depth.shape[1]}x{depth.shape[0]} but its RGB image is "
                             f"{rgb.shape[1]}x{rgb.shape[0]}; they must have the same size")
        own = self.samples.get(name, {})
        item = rgbd_item(rgb, depth, name, own.get("K", self.K), own.get("outdoor", self.outdoor))
        if self.poses is not None:
            item["cam_to_world"] = self.poses[name].copy()
        return item

    def __repr__(self) -> str:
        return f"FolderDataset({str(self.root)!r}, n={len(self)}, depth_scale={self.depth_scale})"
