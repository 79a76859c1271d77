"""Serving the page: command-line flags, start-up model loading, and Gradio's launch settings.

``python app.py`` (or ``python -m text3d.ui.server``) serves on 127.0.0.1:7860. ``serve`` is also what the
tests use, so the launch settings they check (served folders, upload limit, queue) are the real ones.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

from text3d.ui.layout import CSS
from text3d.ui.settings import STATIC_DIR, UISettings

log = logging.getLogger("text3d.ui")
STAND_IN_BANNER = ("Running on **weight-free stand-in models** (`--stand-in-models`): the pipeline is real, "
                   "the pictures and depths are placeholders. For trying the page, not for results.")


def serve(demo, host: str = "127.0.0.1", port: int | None = 7860, share: bool = False,
          block: bool = True) -> str:
    """Launch ``demo`` (from ``build_app``) and return its local URL; block=True waits until Ctrl-C.

    Only the per-request folders, Gradio's own cache and the 3D viewer's static files (page, script, bundled
    three.js) are served (``allowed_paths``); uploads above the settings' limit are refused before they are stored.
    """
    settings: UISettings = demo.text3d_settings
    store = demo.text3d_store
    store.root.mkdir(parents=True, exist_ok=True)
    store.cleanup()
    store.start_janitor(settings.cleanup_interval_s)
    try:
        _, local_url, share_url = demo.launch(
            server_name=host, server_port=port, share=share, prevent_thread_lock=True, quiet=True,
            allowed_paths=[str(store.root), str(STATIC_DIR)], max_file_size=settings.max_upload_bytes,
            show_error=False, ssr_mode=False, mcp_server=False, pwa=False, css=CSS)
    except BaseException:
        store.stop_janitor()
        raise
    log.info("text3d UI on %s%s", local_url, f" (public link {share_url})" if share_url else "")
    if block:
        try:
            demo.block_thread()
        finally:
            store.stop_janitor()
    return local_url


def shutdown(demo) -> None:
    """Stop the server and the clean-up thread of a ``serve(..., block=False)`` app."""
    demo.text3d_store.stop_janitor()
    demo.close(verbose=False)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python app.py", description="Serve the text3d web UI.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for all interfaces)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--share", action="store_true", help="also open a public Gradio share link (needs internet)")
    p.add_argument("--preset", default="default", help="preset selected on the page; its models load at start")
    p.add_argument("--presets", default="fast,default", help="comma-separated presets the page offers")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    for kind in ("t2i", "inpaint", "depth"):
        p.add_argument(f"--{kind}", default=None, help=f"{kind} model for every preset: 'embedded', a local "
                       "folder or a cached hub id (default: the preset's)")
    p.add_argument("--concurrency", type=int, default=1, help="generations run at once; others queue")
    p.add_argument("--queue-size", type=int, default=16, help="waiting requests before new ones are refused")
    p.add_argument("--keep-minutes", type=float, default=60.0, help="delete request outputs after this long")
    p.add_argument("--max-upload-mb", type=float, default=10.0, help="largest photo upload accepted")
    p.add_argument("--work-dir", type=Path, default=None, help="folder for request outputs and Gradio's cache")
    p.add_argument("--stand-in-models", action="store_true",
                   help="use weight-free stand-in models (text3d.fakes) to try the page without trained ones")
    return p.parse_args(argv)


def settings_from_args(args: argparse.Namespace) -> UISettings:
    """UISettings from parsed flags (ValueError on inconsistent values)."""
    presets = tuple(p.strip() for p in args.presets.split(",") if p.strip())
    if args.preset not in presets:
        presets = (args.preset,) + presets
    extra = {"work_dir": args.work_dir} if args.work_dir is not None else {}
    return UISettings(presets=presets, default_preset=args.preset, device=args.device,
                      concurrency=args.concurrency, queue_size=args.queue_size,
                      retention_s=args.keep_minutes * 60.0,
                      cleanup_interval_s=max(10.0, min(600.0, args.keep_minutes * 60.0 / 4)),
                      max_upload_bytes=int(args.max_upload_mb * 2**20),
                      banner=STAND_IN_BANNER if args.stand_in_models else "", **extra)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, load the models once, serve until interrupted. Returns 2 on bad flags or models."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = parse_args(argv)
    try:
        settings = settings_from_args(args)
        from text3d.config import preset_path

        for name in settings.presets:
            preset_path(name)                              # unknown preset names fail here, before loading
        os.environ.setdefault("GRADIO_TEMP_DIR", str(settings.cache_dir))
        from text3d.ui.layout import build_app

        backends = None
        if args.stand_in_models:
            from text3d.fakes import fake_backends

            backends = fake_backends()
        demo = build_app(backends=backends, settings=settings,
                         models={"t2i": args.t2i, "inpaint": args.inpaint, "depth": args.depth})
        log.info("loading the models of preset %r ...", settings.default_preset)
        demo.text3d_pool.warm(settings.default_preset)
    except (ValueError, RuntimeError) as e:               # bad flags, or models that cannot be loaded
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        serve(demo, args.host, args.port, args.share, block=True)
    except OSError as e:                                   # e.g. the port is taken
        print(f"error: cannot serve on {args.host}:{args.port} ({e})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
