"""``generate_scene``: prompt (or photo) -> first view -> trajectory views -> hole clean-up -> fused mesh -> files.

The Python API behind the CLI and the UI (docs/ARCHITECTURE.md, "text3d Python API"), exported as
``text3d.generate_scene``. Inputs are checked before any model loads (``text3d.run.inputs``); user mistakes
raise ValueError with one line saying what to fix.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from depthgen.common.cli import resolve_device
from depthgen.common.config import to_dict
from depthgen.common.io import write_json
from text3d.backends.loading import Backends
from text3d.backends.protocols import capabilities_of
from text3d.config import Text3DConfig
from text3d.run.camera import Camera, resolve_camera
from text3d.run.cleanup import add_cleanup_views
from text3d.run.folder import check_target, stage
from text3d.run.inputs import (check_prompt, fit_photo_size, load_image, read_photo, resolve_config, run_backends,
                               run_segments, slugify)
from text3d.run.manifest import Timings, build_manifest, relative_paths
from text3d.run.outputs import export_scene, fuse_scene, progress_plan, timing_summary, views_summary, write_video
from text3d.run.progress import Progress, ProgressFn
from text3d.run.result import Text3DResult
from text3d.run.scene import SceneBuilder
from text3d.run.trajectory import Segment, build_views, first_pose
from text3d.run.views import ViewPainter


def generate_scene(prompt: str | None = "a cozy library", *, image: str | Path | np.ndarray | None = None,
                   out_dir: str | Path | None = None, preset: str = "default", trajectory: str | None = None,
                   views: int | None = None, seed: int = 0, steps: int | None = None,
                   size: tuple[int, int] | None = None, t2i: str | None = None, inpaint: str | None = None,
                   depth: str | None = None, device: str = "auto", progress: ProgressFn | None = None,
                   backends: Backends | None = None, overrides: Sequence[str] = (), progress_bars: bool = False,
                   fov_deg: float | None = None, overwrite: bool = False) -> Text3DResult:
    """Generate a walkable 3D scene from a prompt (or a photo) and write it to ``out_dir``.

    trajectory/views/steps/size (H, W) default to the preset's; a photo without ``size`` keeps its own
    resolution up to ``text3d.run.upscale.PHOTO_MAX_SIDE`` (512) px on its longer side when the preset
    super-resolves (``fit_photo_size``); ``overrides`` are extra ``key=value`` preset settings; ``fov_deg``: the
    horizontal field of view (1-170 degrees) of every view and of the depth model's input; None: a photo's EXIF
    35 mm-equivalent focal length when it has one, else the preset's ``trajectory.fov_deg`` (60 degrees in the
    shipped presets); manifest.json's ``camera`` says which was used and where it came from (user / exif /
    default / trajectory); ``backends`` reuses loaded models (the name arguments are then ignored);
    ``progress(phase, fraction_of_run)`` is called as work proceeds; ``progress_bars`` shows tqdm bars.

    All or nothing (``text3d.run.folder``): the run writes into a hidden sibling of ``out_dir`` and renames it
    into place at the end; an error or interrupt leaves nothing of the run. A non-empty ``out_dir`` must hold a
    finished run, which is replaced whole only with ``overwrite``.
    """
    prompt = check_prompt(prompt, image, seed)
    cfg = resolve_config(preset, trajectory, views, steps, size, overrides)
    photo = read_photo(image) if image is not None else None
    if photo is not None and size is None:
        fit_photo_size(cfg, (photo.image.height, photo.image.width))
    camera = resolve_camera(cfg, fov_deg, image)
    segments = run_segments(cfg, views, camera.fov_deg)
    first = load_image(photo.image, cfg.height, cfg.width) if photo is not None else None
    dev = resolve_device(device)
    name = prompt or ("image" if isinstance(image, np.ndarray) else Path(str(image)).stem)
    if backends is not None and first is None and backends.t2i is None:
        raise ValueError("these backends have no text-to-image model; give an image or load one")
    target = check_target(Path("outputs") / f"{slugify(name)}-{seed}" if out_dir is None else out_dir, overwrite)
    staging = stage(target)
    timings = Timings()
    try:
        backends = run_backends(cfg, backends, preset, {"t2i": t2i, "inpaint": inpaint, "depth": depth}, dev,
                                timings, need_t2i=first is None)
        if photo is not None and photo.frames > 1:             # said once the run starts: a refusal is one line
            print(photo.note(str(image)), file=sys.stderr)
        result = run_scene(cfg=cfg, backends=backends, camera=camera, segments=segments, prompt=prompt,
                           first_image=first, seed=seed, out=staging.path, timings=timings,
                           image_name=None if image is None or isinstance(image, np.ndarray) else str(image),
                           progress=Progress(progress_plan(cfg, sum(s.views for s in segments)), progress,
                                             progress_bars))
        staging.commit()
    except BaseException:
        staging.discard()           # nothing of an unfinished run is left
        raise
    return result.moved(staging.path, target)


def run_scene(*, cfg: Text3DConfig, backends: Backends, camera: Camera, segments: list[Segment], prompt: str,
              first_image: np.ndarray | None, image_name: str | None, seed: int, out: Path, timings: Timings,
              progress: Progress) -> Text3DResult:
    """Make the views, fuse them and write every output, the manifest last, to ``out`` (which exists and is
    writable). first_image: the photo's first view (H, W, 3), or None to paint it from the prompt."""
    painter = ViewPainter(cfg, backends, camera, seed, timings)
    builder = SceneBuilder(cfg, camera, painter, timings)
    K = camera.K
    try:
        first_prompt = (segments[0].prompt or "").strip() or prompt
        progress("first view", 0.0)
        painted = painter.first_image(first_prompt) if first_image is None else None
        progress("first view", 0.5)
        builder.add_first(first_image if painted is None else painted.image, first_prompt, first_pose(segments))
        progress("first view", 1.0)
        first_depth = builder.views[0].depth
        scene_depth = float(np.median(first_depth[first_depth > 0])) if (first_depth > 0).any() else 1.0

        specs = build_views(segments, cfg.trajectory, prompt, scene_depth)
        for i, spec in enumerate(specs[1:]):
            builder.add_view(spec, lambda f, i=i: progress("views", (i + f) / max(len(specs) - 1, 1)))
        cleanup_fractions = add_cleanup_views(builder, cfg.cleanup, specs, scene_depth, timings,
                                              progress.phase("clean-up"))
        with timings("fusion"):
            mesh, fusion_info = fuse_scene(cfg, builder.views, builder.mesh, K, scene_depth)
        progress("fusion", 1.0)
        with timings("export"):
            paths, view_files = export_scene(out, mesh, builder.views, builder.mesh, K, camera.size,
                                             progress.phase("export"))
        progress("export", 1.0)
        if cfg.video.enabled:
            with timings("video"):
                paths["mp4"] = write_video(out / "scene.mp4", cfg, mesh, builder.views, K, scene_depth,
                                           progress.phase("video"))
            progress("video", 1.0)
    finally:
        progress.close()

    paths["manifest"] = out / "manifest.json"  # written last: a folder with it is a finished run
    timing = timing_summary(timings)
    manifest = build_manifest(
        prompt=prompt, seed=seed, image=image_name, backends=backends.names(), settings=to_dict(cfg),
        timings=timing, outputs=relative_paths(paths, out),
        views=views_summary(builder.views, view_files, cleanup_fractions),
        mesh={"vertices": mesh.n_vertices, "faces": mesh.n_faces, "scene_depth_m": round(scene_depth, 4),
              **fusion_info},
        camera=camera.manifest_entry(capabilities_of(backends.depth).camera_aware),
        first_view=None if painted is None else painted.info)
    write_json(paths["manifest"], manifest, allow_nan=False)
    return Text3DResult(prompt, seed, out, mesh, builder.views, paths, timing, manifest)
