"""The result object of ``text3d.generate_scene``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from text3d.geometry.mesh import Mesh
from text3d.run.scene import ViewRecord


@dataclass
class Text3DResult:
    """What a run made.

    mesh: the exported mesh (vertices (n, 3) float64 m, faces (m, 3) int64, colors (n, 3) float32 [0, 1]) in
    the generation frame (first view's OpenCV axes; the files are y-up, see ``text3d.run.export``).
    views: every generated view in order (first, trajectory, clean-up).
    paths: output files by key: ``ply``, ``glb``, ``points``, ``mp4`` (when the video is on), ``manifest``,
    ``transforms``, ``views_dir``, ``first_view``, ``first_depth``, ``first_uncertainty``.
    timings: wall-clock seconds per stage; manifest: the content of manifest.json.
    """

    prompt: str
    seed: int
    out_dir: Path
    mesh: Mesh
    views: list[ViewRecord]
    paths: dict[str, Path]
    timings: dict[str, float]
    manifest: dict = field(default_factory=dict)

    def moved(self, old: Path, new: Path) -> "Text3DResult":
        """This result with ``out_dir`` and ``paths`` under ``new`` instead of ``old`` (the staging folder)."""
        paths = {k: new / Path(p).relative_to(old) for k, p in self.paths.items()}
        return replace(self, out_dir=new, paths=paths)
