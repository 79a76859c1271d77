"""What a run leaves behind once its views are made: the fused mesh, the files (view PNGs, PLY, GLB, points,
transforms.json), the novel-view video, and the manifest's summaries of timings and views."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from depthgen.common.io import colorize, write_depth_png, write_json
from text3d.config import Text3DConfig
from text3d.geometry.fuse import auto_voxel, clean_mesh, tsdf_fuse
from text3d.geometry.mesh import Mesh
from text3d.run.export import transforms_dict, write_mesh_glb, write_mesh_ply, write_png, write_points_ply
from text3d.run.manifest import Timings
from text3d.run.scene import ViewRecord
from text3d.run.video import novel_path, render_frames, write_mp4


def progress_plan(cfg: Text3DConfig, n_views: int) -> dict[str, float]:
    """Relative phase weights (about one model call = 1) for progress fractions, in run order."""
    plan = {"first view": 2.0, "views": max(n_views - 1, 0) * 1.0}
    if cfg.cleanup.views:
        plan["clean-up"] = cfg.cleanup.views + 0.3
    plan.update({"fusion": 0.3, "export": 0.3})
    if cfg.video.enabled:
        plan["video"] = 0.7
    return plan


def fuse_scene(cfg: Text3DConfig, views: Sequence[ViewRecord], pieces_mesh: Mesh, K: np.ndarray,
               scene_depth: float) -> tuple[Mesh, dict]:
    """The exported mesh: merged pieces or TSDF fusion of the views, then clean-up."""
    info: dict = {"method": cfg.fusion.method}
    mesh = pieces_mesh
    if cfg.fusion.method == "tsdf":
        voxel = cfg.fusion.tsdf_voxel or auto_voxel(scene_depth, K)
        info["tsdf_voxel"] = voxel
        mesh = tsdf_fuse([v.image for v in views], [v.depth for v in views], K,
                         [v.cam_to_world for v in views], voxel, cfg.fusion.tsdf_trunc_voxels)
    mesh, stats = clean_mesh(mesh, cfg.fusion.min_component_fraction)
    info.update(stats)
    return mesh, info


def export_views(views: Sequence[ViewRecord], views_dir: Path) -> list[dict]:
    """Per-view PNGs (colour, coloured depth, 16-bit depth in mm, uncertainty, filled mask); file names per view."""
    valid_all = np.concatenate([v.depth[v.depth > 0] for v in views] or [np.zeros(1)])
    d_lo, d_hi = (np.percentile(valid_all, [2, 98]) if valid_all.size > 1 else (0.0, 1.0))
    u_hi = max(float(np.percentile(np.concatenate([v.uncertainty.ravel() for v in views]), 99)), 1e-6)
    files = []
    for v in views:
        names = {k: f"{k}_{v.index:03d}.png" for k in ("rgb", "depth", "depth_mm", "uncertainty", "filled")}
        write_png(views_dir / names["rgb"], v.image)
        write_png(views_dir / names["depth"], colorize(v.depth, v.depth > 0, "turbo", float(d_lo), float(d_hi)))
        write_depth_png(views_dir / names["depth_mm"], v.depth)
        write_png(views_dir / names["uncertainty"], colorize(v.uncertainty, None, "magma", 0.0, u_hi))
        write_png(views_dir / names["filled"], v.filled)
        files.append(names)
    return files


def export_scene(out: Path, mesh: Mesh, views: Sequence[ViewRecord], points: Mesh, K: np.ndarray,
                 size: tuple[int, int], progress: Callable[[float], None]) -> tuple[dict[str, Path], list[dict]]:
    """Write the view PNGs, the mesh (PLY, and GLB with the generation cameras), the point cloud and
    transforms.json into ``out``; returns (output paths by key, each view's file names). ``points``: the
    un-fused view pieces (vertices in metres, colours [0, 1]); K (3, 3) pixels at the view size (H, W)."""
    h, w = size
    views_dir = out / "views"
    view_files = export_views(views, views_dir)
    progress(0.5)
    paths: dict[str, Path] = {"ply": write_mesh_ply(out / "scene.ply", mesh)}
    paths["glb"] = write_mesh_glb(out / "scene.glb", mesh, [v.cam_to_world for v in views], K, (h, w),
                                  [f"view_{v.index:03d}_{v.kind}" for v in views])
    paths["points"] = write_points_ply(out / "points.ply", points.vertices, points.colors)
    frames = [{"file_path": f"views/{f['rgb']}", "depth_file_path": f"views/{f['depth_mm']}",
               "cam_to_world": v.cam_to_world} for v, f in zip(views, view_files)]
    paths["transforms"] = write_json(out / "transforms.json", transforms_dict(K, h, w, frames))
    paths["views_dir"] = views_dir
    paths["first_view"] = views_dir / view_files[0]["rgb"]
    paths["first_depth"] = views_dir / view_files[0]["depth"]
    paths["first_uncertainty"] = views_dir / view_files[0]["uncertainty"]
    return paths, view_files


def write_video(path: Path, cfg: Text3DConfig, mesh: Mesh, views: Sequence[ViewRecord], K: np.ndarray,
                scene_depth: float, progress: Callable[[float], None] | None) -> Path:
    """The novel-view MP4 of ``mesh``: a loop through the generation poses (clean-up views left out), swung by
    ``cfg.video.offset`` x the scene depth (metres), rendered at the video size."""
    keys = [v.cam_to_world for v in views if v.kind != "cleanup"]
    poses = novel_path(keys, cfg.video.frames, cfg.video.offset * scene_depth)
    frames = render_frames(mesh, K, (cfg.height, cfg.width), poses, (cfg.video.height, cfg.video.width),
                           tuple(cfg.video.background), progress)
    return write_mp4(path, frames, cfg.video.fps)


def timing_summary(timings: Timings) -> dict[str, float]:
    """Seconds per stage, plus ``total`` (the run so far) and ``own_overhead`` (total minus model time: load,
    t2i, inpaint, depth and super-resolution)."""
    timing = timings.as_dict()
    model_s = sum(timing.get(k, 0.0) for k in ("load", "t2i", "inpaint", "depth", "upscale"))
    timing["total"] = round(timings.elapsed(), 4)
    timing["own_overhead"] = round(timing["total"] - model_s, 4)
    return timing


def views_summary(views: Sequence[ViewRecord], view_files: list[dict], cleanup_fractions: list[float]) -> list[dict]:
    """Each view's manifest entry with its file names; clean-up views also get the hole fraction they were
    chosen for."""
    info = [dict(v.summary(), files=f) for v, f in zip(views, view_files)]
    for v, frac in zip([v for v in info if v["kind"] == "cleanup"], cleanup_fractions):
        v["candidate_hole_fraction"] = round(frac, 5)
    return info
