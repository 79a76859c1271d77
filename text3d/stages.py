"""The stages of a run after its inputs are checked: views, clean-up, fusion, export, video, manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from depthgen.common.config import to_dict
from depthgen.common.io import colorize, write_depth_png, write_json
from text3d.cameras import intrinsics_from_fov
from text3d.config import Text3DConfig
from text3d.export import transforms_dict, write_mesh_glb, write_mesh_ply, write_png, write_points_ply
from text3d.fuse import auto_voxel, clean_mesh, tsdf_fuse
from text3d.loading import Backends
from text3d.manifest import Timings, build_manifest, relative_paths
from text3d.mesh import Mesh
from text3d.progress import Progress, ProgressFn
from text3d.refine import pick_cleanup_views
from text3d.result import Text3DResult
from text3d.scene import SceneBuilder, ViewRecord
from text3d.trajectory import Segment, build_views, first_pose
from text3d.video import novel_path, render_frames, write_mp4


def _plan(cfg: Text3DConfig, n_views: int) -> dict[str, float]:
    """Relative stage weights (about one model call = 1) for progress fractions."""
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


def add_cleanup_views(builder: SceneBuilder, cfg: Text3DConfig, K: np.ndarray, specs: list, scene_depth: float,
                      timings: Timings, progress: Progress) -> list[float]:
    """Add ``cfg.cleanup.views`` views aimed at the largest holes left by the trajectory ``specs``; returns the
    hole fraction each was chosen for (empty when clean-up is off). scene_depth: metres."""
    if not cfg.cleanup.views:
        return []
    with timings("cleanup-search"):
        extra, fractions = pick_cleanup_views(builder.raycaster(), K, (cfg.height, cfg.width), specs, cfg.cleanup,
                                              scene_depth)
    progress("clean-up", 0.3 / (cfg.cleanup.views + 0.3))
    for i, spec in enumerate(extra):
        builder.add_view(spec, lambda f, i=i: progress("clean-up", (0.3 + i + f) / (cfg.cleanup.views + 0.3)))
    progress("clean-up", 1.0)
    return fractions


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


def run_stages(*, cfg: Text3DConfig, backends: Backends, segments: list[Segment], prompt: str,
               first_image: np.ndarray | None, image_name: str | None, seed: int, out: Path, timings: Timings,
               progress_fn: ProgressFn | None, progress_bars: bool) -> Text3DResult:
    """Run every stage and write the outputs to ``out`` (which exists and is writable)."""
    h, w = cfg.height, cfg.width
    K = intrinsics_from_fov(cfg.trajectory.fov_deg, w, h)
    n_views = sum(s.views for s in segments)
    progress = Progress(_plan(cfg, n_views), progress_fn, progress_bars)
    builder = SceneBuilder(cfg, backends, K, seed, timings)
    try:
        # First view: text-to-image (or the photo), DepthGen depth, lifted whole.
        seg_prompt = (segments[0].prompt or "").strip()
        first_prompt = seg_prompt or prompt
        progress("first view", 0.0)
        image = first_image if first_image is not None else builder.first_image(first_prompt)
        progress("first view", 0.5)
        builder.add_first(image, first_prompt, first_pose(segments))
        progress("first view", 1.0)
        first_depth = builder.views[0].depth
        scene_depth = float(np.median(first_depth[first_depth > 0])) if (first_depth > 0).any() else 1.0

        specs = build_views(segments, cfg.trajectory, prompt, scene_depth)
        for i, spec in enumerate(specs[1:]):
            builder.add_view(spec, lambda f, i=i: progress("views", (i + f) / max(len(specs) - 1, 1)))

        cleanup_fractions = add_cleanup_views(builder, cfg, K, specs, scene_depth, timings, progress)

        with timings("fusion"):
            mesh, fusion_info = fuse_scene(cfg, builder.views, builder.mesh, K, scene_depth)
        progress("fusion", 1.0)

        with timings("export"):
            paths, view_files = export_scene(out, mesh, builder.views, builder.mesh, K, (h, w),
                                             lambda f: progress("export", f))
        progress("export", 1.0)

        if cfg.video.enabled:
            with timings("video"):
                paths["mp4"] = write_video(out / "scene.mp4", cfg, mesh, builder.views, K, scene_depth,
                                           progress.stage("video"))
            progress("video", 1.0)
    finally:
        progress.close()

    paths["manifest"] = out / "manifest.json"
    timing = timing_summary(timings)
    manifest = build_manifest(
        prompt=prompt, seed=seed, image=image_name, backends=backends.names(), settings=to_dict(cfg),
        timings=timing, outputs=relative_paths(paths, out),
        views=views_summary(builder.views, view_files, cleanup_fractions),
        mesh={"vertices": mesh.n_vertices, "faces": mesh.n_faces, "scene_depth_m": round(scene_depth, 4),
              **fusion_info},
        first_view=getattr(backends.t2i, "last_info", None) if first_image is None else None)
    write_json(paths["manifest"], manifest)
    return Text3DResult(prompt, seed, out, mesh, builder.views, paths, timing, manifest)
