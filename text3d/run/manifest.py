"""The run manifest: what was asked, what ran, how long each stage took, and where the outputs are.

A stage is a timed kind of work (``load``, ``t2i``, ``inpaint``, ``depth``, ``upscale``, ``render``, ``lift``,
``cleanup-search``, ``fusion``, ``export``, ``video``); one may run many times in a run (once per view).
"""

from __future__ import annotations

import platform
import time

import torch
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

PACKAGES = ("text3d", "torch", "numpy", "diffusers", "open3d", "trimesh", "imageio", "imageio-ffmpeg", "scipy")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on (None when not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


class Timings:
    """Accumulates wall-clock seconds per stage name (a stage may run many times)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._created = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since this object was made (the whole run's wall time)."""
        return time.perf_counter() - self._created

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in self.seconds.items()}


def relative_paths(paths: dict[str, Path], root: Path) -> dict[str, str]:
    """Output paths relative to the output folder (as POSIX strings)."""
    out = {}
    for key, p in paths.items():
        try:
            out[key] = Path(p).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            out[key] = str(p)
    return out


def build_manifest(*, prompt: str, seed: int, image: str | None, backends: dict[str, str], settings: dict,
                   timings: dict[str, float], outputs: dict[str, str], views: list[dict], mesh: dict,
                   camera: dict[str, Any], first_view: dict | None = None) -> dict[str, Any]:
    """The mapping written as ``manifest.json``; ``first_view``: what the text-to-image backend reports of how
    it painted the first view (for the embedded model: the retrieved layout), if anything; ``camera``: the
    run's camera (``text3d.run.camera.Camera.manifest_entry``)."""
    return {
        "format": "text3d-run",           # text3d.run.folder.RUN_FORMAT: marks a finished run
        "prompt": prompt,
        "seed": seed,
        "image": image,
        "backends": backends,
        "first_view": first_view,
        "settings": settings,
        "world_frame": "files: y up, first view looks along -z (glTF/OpenGL); result.mesh and view poses in "
                       "the API: first view's OpenCV frame (x right, y down, z forward)",
        "timings_s": timings,
        "versions": package_versions(),
        # the same seed and the same thread count give the same bytes; other thread counts sum in another order
        "torch_threads": torch.get_num_threads(),
        "outputs": outputs,
        "views": views,
        "mesh": mesh,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "camera": dict(camera),
    }
