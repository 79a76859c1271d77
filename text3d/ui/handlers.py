"""The functions behind the page's events: check the photo on upload, and run one generation.

Why here and not in the layout: they hold the request logic (checks, per-request folder, progress, error
messages) and are called directly by tests. Every failure reaches the visitor as a one-line ``gr.Error``;
tracebacks stay in the server log.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from text3d.ui.inputs import Request, check_image, check_request
from text3d.ui.models import BackendPool
from text3d.ui.settings import UISettings
from text3d.ui.storage import OutputStore, zip_folder

log = logging.getLogger(__name__)

GenerateFn = Callable[..., Any]      # text3d.generate_scene's signature (docs/ARCHITECTURE.md)
OUTPUT_NAMES = ("first_view", "depth", "uncertainty", "model3d", "video", "downloads", "summary")


def _error(message: str):
    import gradio as gr

    return gr.Error(message, print_exception=False)


def preview_upload(path: str | None, settings: UISettings) -> str | None:
    """The uploaded photo's path for the preview image, or a readable error if it is not usable."""
    if not path:
        return None
    try:
        return str(check_image(path, settings))
    except ValueError as e:
        raise _error(str(e)) from None


def summary_markdown(req: Request, result: Any, models: str) -> str:
    """A few lines about the run for the page: what was asked, what came out, how long it took."""
    source = f"photo `{req.image.name}`" if req.image is not None else f"“{req.prompt}”"
    mesh = getattr(result, "mesh", None)
    size = f"{mesh.n_vertices:,} vertices, {mesh.n_faces:,} faces" if mesh is not None else "mesh"
    total = (getattr(result, "timings", None) or {}).get("total")
    took = f" in {total:.1f} s" if isinstance(total, (int, float)) else ""
    first_view = (getattr(result, "manifest", None) or {}).get("first_view") or {}
    start = first_view.get("layout")
    painted = (f"  \nFirst view painted over a retrieved *{start['scene_type']}* training layout "
               f"(scene {start['training_index']}, layout strength {first_view['layout_strength']:g})"
               if start and start.get("scene_type") else "")
    return (f"**{source}** — seed {req.seed}, preset `{req.preset}`, {req.trajectory}, "
            f"{len(getattr(result, 'views', []))} views → {size}{took}.  \nModels: {models}{painted}")


def result_outputs(req: Request, result: Any, req_dir: Path, models: str) -> tuple:
    """The page's outputs (see OUTPUT_NAMES) from a ``Text3DResult``; adds the zip of the request folder."""
    from text3d.run.inputs import slugify

    paths = result.paths
    name = slugify(req.prompt or (req.image.stem if req.image else "scene"))
    archive = zip_folder(req_dir, req_dir / f"{name}-seed{req.seed}.zip")
    downloads = [str(paths[k]) for k in ("ply", "glb", "mp4") if k in paths] + [str(archive)]
    return (str(paths["first_view"]), str(paths["first_depth"]), str(paths["first_uncertainty"]),
            str(paths["glb"]), str(paths["mp4"]) if "mp4" in paths else None, downloads,
            summary_markdown(req, result, models))


def run_generation(req: Request, *, generate_fn: GenerateFn, pool: BackendPool, store: OutputStore,
                   settings: UISettings, report: Callable[[float, str], None]) -> tuple:
    """Load (or reuse) the models, run ``generate_fn`` into a fresh request folder, return the outputs.

    report(fraction 0..1, phase description) feeds the page's progress bar. Refused (ValueError) before any
    model loads when the disk has too little free space (``OutputStore.new_request_path``). The run makes the
    folder all or nothing; it is deleted when a later step fails.
    """
    req_dir = store.new_request_path()
    report(0.0, "loading models")
    backends = pool.get(req.preset)
    try:
        result = generate_fn(req.prompt or None, image=req.image, out_dir=req_dir, preset=req.preset,
                             trajectory=req.trajectory, views=req.views, seed=req.seed, steps=req.steps,
                             overrides=req.overrides(), device=settings.device, backends=backends,
                             progress=lambda phase, fraction: report(fraction, phase))
        report(1.0, "packing downloads")
        return result_outputs(req, result, req_dir, pool.describe(req.preset))
    except BaseException:
        store.discard(req_dir)
        raise


def make_generate_handler(generate_fn: GenerateFn, pool: BackendPool, store: OutputStore,
                          settings: UISettings) -> Callable[..., tuple]:
    """The Generate button's function: form values in, page outputs out, errors as ``gr.Error``."""
    import gradio as gr

    def generate(prompt: str, photo: str | None, preset: str, trajectory: str, views: float, seed: float,
                 steps: float, layout_strength: float = 0.0, progress: gr.Progress = gr.Progress()) -> tuple:
        try:
            req = check_request(prompt, photo, preset, trajectory, views, seed, steps, settings,
                                layout_strength=layout_strength)
            return run_generation(req, generate_fn=generate_fn, pool=pool, store=store, settings=settings,
                                  report=lambda fraction, phase: progress(fraction, desc=phase))
        except gr.Error:
            raise
        except ValueError as e:                 # the pipeline's and our own user-mistake messages
            raise _error(str(e).splitlines()[0] if str(e) else "invalid input") from None
        except Exception as e:                  # a bug or a machine problem: log it, tell the visitor briefly
            log.exception("generation failed")
            raise _error(f"generation failed on the server ({e.__class__.__name__}); the details were logged. "
                         "Try again, or other settings.") from None

    return generate
