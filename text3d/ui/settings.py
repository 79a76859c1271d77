"""Server-side limits and defaults of the web UI, in one dataclass shared by the layout, handlers and server.

Why limits live here: a public page must bound what one visitor can ask for (views, steps, upload size)
and how many runs share the machine at once; the server flags (``text3d.ui.server``) fill this in.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from text3d.config import PHOTO_MAX_PIXELS

STATIC_DIR = Path(__file__).resolve().parent / "static"   # the 3D viewer's page, script and bundled three.js

EXAMPLE_PROMPTS = (
    "a cozy library with wooden shelves",
    "a sunlit living room with a green sofa",
    "a narrow street in an old town at dusk",
    "a mountain lake surrounded by pine trees",
)


def default_work_dir() -> Path:
    """The UI's own folder under the system temp dir: ``requests/`` (outputs) and ``gradio/`` (Gradio's cache)."""
    return Path(tempfile.gettempdir()) / "text3d-ui"


@dataclass
class UISettings:
    """What the page offers and how much it lets one request do.

    concurrency: runs at once (the rest wait in the queue); queue_size: waiting requests before new ones
    are turned away; work_dir: holds ``requests/<id>/`` (the only folder served besides Gradio's own cache)
    and, by default, Gradio's cache ``gradio/``; retention_s: seconds a request's outputs are kept; max_upload_bytes / max_upload_pixels:
    the largest photo accepted; max_views / max_steps: upper bounds of the advanced settings.
    """

    presets: tuple[str, ...] = ("fast", "default", "pixel")
    default_preset: str = "default"
    trajectories: tuple[str, ...] = ("orbit", "walk", "zoom-out")
    device: str = "auto"
    concurrency: int = 1
    queue_size: int = 16
    work_dir: Path = field(default_factory=default_work_dir)
    retention_s: float = 3600.0
    cleanup_interval_s: float = 300.0
    max_upload_bytes: int = 10 * 1024 * 1024
    max_upload_pixels: int = PHOTO_MAX_PIXELS
    max_views: int = 16
    max_steps: int = 100
    examples: tuple[str, ...] = EXAMPLE_PROMPTS
    banner: str = ""                # extra line under the title (e.g. "stand-in backends: testing only")

    def __post_init__(self) -> None:
        self.work_dir = Path(self.work_dir).resolve()
        if self.default_preset not in self.presets:
            raise ValueError(f"default preset {self.default_preset!r} is not among the offered presets "
                             f"{', '.join(self.presets)}; add it to the list")
        for name, value in (("concurrency", self.concurrency), ("queue_size", self.queue_size),
                            ("max_views", self.max_views), ("max_steps", self.max_steps),
                            ("max_upload_bytes", self.max_upload_bytes),
                            ("max_upload_pixels", self.max_upload_pixels)):
            if int(value) < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.retention_s <= 0 or self.cleanup_interval_s <= 0:
            raise ValueError("retention and cleanup interval must be positive numbers of seconds")

    @property
    def requests_dir(self) -> Path:
        """Root of the per-request output folders."""
        return self.work_dir / "requests"

    @property
    def cache_dir(self) -> Path:
        """Where the server points Gradio's upload/result cache (GRADIO_TEMP_DIR) unless it is set."""
        return self.work_dir / "gradio"
