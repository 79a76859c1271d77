"""The Gradio web UI over ``text3d.generate_scene``: ``build_app`` makes the page, ``serve`` runs it.

Modules: settings (limits), inputs (request checks), models (load once), storage (per-request folders,
clean-up, zip), handlers (event functions), layout (the page), server (flags, launch). Gradio is imported
only inside functions, so importing this package is cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_app", "serve", "shutdown", "UISettings"]


def __getattr__(name: str) -> Any:
    if name == "build_app":
        from text3d.ui.layout import build_app

        return build_app
    if name in ("serve", "shutdown"):
        from text3d.ui import server

        return getattr(server, name)
    if name == "UISettings":
        from text3d.ui.settings import UISettings

        return UISettings
    raise AttributeError(f"module 'text3d.ui' has no attribute {name!r}")
