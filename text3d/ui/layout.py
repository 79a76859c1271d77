"""The page: inputs (prompt, examples, photo, advanced settings), the Generate button and the results.

``build_app`` takes the generate function and the backends as parameters so tests can inject fast ones;
by default it uses ``text3d.generate_scene`` and loads the models through ``text3d.load_backends`` (once).
"""

from __future__ import annotations

from typing import Any

from text3d.backends.hub import download_models
from text3d.ui.handlers import GenerateFn, make_generate_handler, preview_upload
from text3d.ui.models import BackendPool, LoadFn
from text3d.ui.settings import UISettings
from text3d.ui.storage import OutputStore

TITLE = "text3d — text to 3D scenes with DepthGen"
INTRO = ("Type a prompt (or upload a photo) and press **Generate**: the first view is painted, its depth "
         "estimated by DepthGen, and the camera moves along a trajectory, painting and estimating each new "
         "view; the views are fused into a mesh you can walk through below, with a fly-through video and downloads.")

# The views are small (the models' resolution): show them filling their boxes, with crisp pixels.
CSS = """
#first-view img, #depth img, #uncertainty img { width: 100%; height: 100%; object-fit: contain;
                                               image-rendering: pixelated; }
"""

# The generate handler's inputs and outputs, in its argument and return order.
GENERATE_INPUTS = ("prompt", "photo", "preset", "trajectory", "views", "seed", "steps", "layout_strength")
GENERATE_OUTPUTS = ("first_view", "depth", "uncertainty", "model3d", "video", "downloads", "summary")


def _default_generate(*args: Any, **kwargs: Any) -> Any:
    import text3d

    return text3d.generate_scene(*args, **kwargs)


def build_app(generate_fn: GenerateFn | None = None, backends: object | None = None,
              settings: UISettings | None = None, load_backends_fn: LoadFn | None = None,
              models: dict[str, str] | None = None):
    """Build the Gradio Blocks (not launched; see ``text3d.ui.server.serve``).

    generate_fn: ``text3d.generate_scene`` or a stand-in with its signature; backends: a ``text3d.Backends`` used
    for every request, or None to load each preset's models on first use with ``load_backends_fn``
    (default ``text3d.load_backends``); models: kind -> model name overriding the presets' (``--t2i`` etc.).
    The returned Blocks carries ``.text3d_pool``, ``.text3d_store`` and ``.text3d_settings`` (used by ``serve``).
    """
    import gradio as gr

    settings = settings or UISettings()
    pool = BackendPool(settings.device, load_backends_fn, fixed=backends, models=models)
    store = OutputStore(settings.requests_dir, settings.retention_s)
    handler = make_generate_handler(generate_fn or _default_generate, pool, store, settings)
    # Gradio copies results into its cache; delete those copies on the same schedule as the request folders.
    expiry = (int(settings.cleanup_interval_s), int(settings.retention_s))

    with gr.Blocks(title="text3d", delete_cache=expiry, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}\n{INTRO}" + (f"\n\n> {settings.banner}" if settings.banner else ""))
        with gr.Row():
            with gr.Column(scale=1):
                parts = _input_column(settings, pool)
            with gr.Column(scale=2):
                parts.update(_result_column())
        _connect_events(parts, handler, make_download_step(pool), settings)

    demo.queue(max_size=settings.queue_size, default_concurrency_limit=settings.concurrency)
    demo.text3d_pool, demo.text3d_store, demo.text3d_settings = pool, store, settings
    return demo


def _input_column(settings: UISettings, pool: BackendPool) -> dict[str, Any]:
    """The left column (inside the caller's ``gr.Column``): prompt, example prompts, photo with its preview,
    advanced settings, the Generate button (``run``) and the run summary; returns the components by name."""
    import gradio as gr

    parts: dict[str, Any] = {}
    parts["prompt"] = gr.Textbox(label="Prompt", placeholder="a cozy library with wooden shelves", lines=2,
                                 max_lines=4, elem_id="prompt")
    gr.Examples(examples=[[p] for p in settings.examples], inputs=[parts["prompt"]], cache_examples=False,
                label="Example prompts")
    with gr.Row():
        parts["photo"] = gr.File(label="Photo (optional: start from it instead of a painted first view)",
                                 file_types=["image"], type="filepath", elem_id="photo", scale=2)
        parts["photo_preview"] = gr.Image(label="Photo preview", interactive=False, height=140, scale=1,
                                          elem_id="photo-preview")
    with gr.Accordion("Advanced settings", open=False, elem_id="advanced"):
        parts.update(_advanced_settings(settings))
        gr.Markdown(f"Models: {pool.describe(settings.default_preset)}")
    parts["run"] = gr.Button("Generate", variant="primary", elem_id="generate")
    parts["summary"] = gr.Markdown(elem_id="summary")
    return parts


def _advanced_settings(settings: UISettings) -> dict[str, Any]:
    """The controls of the "Advanced settings" accordion (preset, trajectory, views, steps, layout strength,
    seed; 0 keeps the preset's value; the download switch, off), by name."""
    import gradio as gr

    return {
        "preset": gr.Dropdown(list(settings.presets), value=settings.default_preset, label="Preset",
                              info="fast = quick 64-px preview; default = 256-px latent models; pixel = 64-px models with retrieved layouts", elem_id="preset"),
        "trajectory": gr.Dropdown(list(settings.trajectories), value=settings.trajectories[0],
                                  label="Camera trajectory", elem_id="trajectory"),
        "views": gr.Slider(0, settings.max_views, value=0, step=1, label="Views",
                           info="0 keeps the preset's number", elem_id="views"),
        "steps": gr.Slider(0, settings.max_steps, value=0, step=1, label="Sampling steps",
                           info="0 keeps the preset's; fewer is faster and rougher", elem_id="steps"),
        "layout_strength": gr.Slider(
            0, 1, value=0, step=0.05, label="Layout strength (pixel and fast presets)",
            info="0 keeps the model's default; lower keeps more of the retrieved training "
                 "layout, 1 paints from pure noise", elem_id="layout-strength"),
        "seed": gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="seed"),
        "allow_download": gr.Checkbox(
            value=False, label="Allow downloads",
            info="download the preset's hub models that the server's Hugging Face cache lacks before the run; "
                 "off: nothing is downloaded and a missing model is an error", elem_id="allow-download"),
    }


def _result_column() -> dict[str, Any]:
    """The right column (inside the caller's ``gr.Column``): the first view, its depth and uncertainty, the 3D
    viewer, the fly-through video and the downloads; returns the components by name."""
    import gradio as gr

    from text3d.ui.viewer import SceneViewer

    parts: dict[str, Any] = {}
    with gr.Row():
        parts["first_view"] = gr.Image(label="First view", interactive=False, height=220, elem_id="first-view")
        parts["depth"] = gr.Image(label="Depth (DepthGen)", interactive=False, height=220, elem_id="depth")
        parts["uncertainty"] = gr.Image(label="Depth uncertainty", interactive=False, height=220,
                                        elem_id="uncertainty")
    parts["model3d"] = SceneViewer(label="3D scene: you stand at the first camera (drag to look around; "
                                         "W A S D / arrows / scroll to walk)", show_label=False,
                                   container=True, height=460, elem_id="model3d")
    parts["video"] = gr.Video(label="Novel-view video", height=320, autoplay=True, loop=True, interactive=False,
                              elem_id="video")
    parts["downloads"] = gr.File(label="Downloads (mesh .ply / .glb, video .mp4, everything .zip)",
                                 file_count="multiple", interactive=False, height=180, elem_id="downloads")
    return parts


def make_download_step(pool: BackendPool):
    """The step before each generation: with "Allow downloads" ticked, download the preset's hub models that the
    local cache lacks (``text3d.backends.hub.download_models``); a failure is one line naming its cause."""

    def download(preset: str, allowed: bool) -> None:
        import gradio as gr

        if not allowed:
            return
        try:
            download_models(pool.names(preset).values())
        except ValueError as e:
            raise gr.Error(str(e).splitlines()[0], print_exception=False) from None

    return download


def _connect_events(parts: dict[str, Any], handler: Any, download: Any, settings: UISettings) -> None:
    """Wire the events (inside the Blocks): the photo preview on upload / clear, and on the Generate button (API
    ``generate``) and on Enter in the prompt (private) the download step, then the generate handler, sharing
    one concurrency pool."""
    parts["photo"].upload(lambda p: preview_upload(p, settings), inputs=parts["photo"],
                          outputs=parts["photo_preview"], api_name="check_photo", concurrency_limit=4)
    parts["photo"].clear(lambda: None, outputs=parts["photo_preview"], api_visibility="private")
    inputs = [parts[k] for k in GENERATE_INPUTS]
    outputs = [parts[k] for k in GENERATE_OUTPUTS]
    for trigger, api in ((parts["run"].click, {"api_name": "generate"}),
                         (parts["prompt"].submit, {"api_visibility": "private"})):
        step = trigger(download, inputs=[parts["preset"], parts["allow_download"]], api_visibility="private",
                       concurrency_limit=settings.concurrency, concurrency_id="generate")
        step.success(handler, inputs=inputs, outputs=outputs, concurrency_limit=settings.concurrency,
                     concurrency_id="generate", **api)
