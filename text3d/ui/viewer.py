"""The page's 3D scene panel: a first-person viewer that opens inside the scene at the first view's camera.

Why not ``gr.Model3D``: it frames the whole mesh from outside (a blob with the painted view as a patch);
people want to stand where the cameras stood. The viewer is a static page (``static/viewer.html`` and
``viewer.js``, three.js bundled in ``static/vendor/three``, no CDN) shown in an iframe; it reads the
generation cameras from ``scene.glb`` itself (glTF camera nodes, see ``text3d.run.export``), so the file
and the panel cannot disagree.

For the HTTP API the component is a file output like ``gr.Model3D``: the handler returns the .glb path,
the page receives its URL, clients receive the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr
from gradio.data_classes import FileData

from text3d.ui.settings import STATIC_DIR

# A JS template string (gr.HTML): ``value`` is the FileData dict (with the served ``url``) or null.
TEMPLATE = """${value && value.url
  ? `<iframe class="text3d-viewer" title="3D scene viewer" allow="fullscreen"
       src="${viewer_src}?glb=${encodeURIComponent(value.url)}"></iframe>`
  : `<div class="text3d-viewer-empty">${empty_text}</div>`}"""

CSS = """
.text3d-viewer { width: 100%; height: ${height}px; border: 0; display: block; border-radius: 6px;
                 background: rgb(20, 20, 26); }
.text3d-viewer-empty { height: ${height}px; display: flex; align-items: center; justify-content: center;
                       border-radius: 6px; background: rgb(20, 20, 26); color: #aaa; }
"""


def viewer_src() -> str:
    """The viewer page's URL relative to the app root (served by Gradio's file route: an allowed path)."""
    return "gradio_api/file=" + quote(str(STATIC_DIR / "viewer.html"))


class SceneViewer(gr.HTML):
    """The first-person viewer; value: a .glb path (with glTF cameras) or None."""

    data_model = FileData

    def __init__(self, value: str | Path | None = None, *, height: int = 460,
                 empty_text: str = "The 3D scene appears here after Generate.", **kwargs: Any):
        super().__init__(value, html_template=TEMPLATE, css_template=CSS, js_on_load=None,
                         viewer_src=viewer_src(), height=int(height), empty_text=empty_text, **kwargs)

    def preprocess(self, payload: Any) -> str | None:
        """(Unused as an input) the file's server path."""
        if payload is None:
            return None
        return payload.path if isinstance(payload, FileData) else FileData(**payload).path

    def postprocess(self, value: str | Path | None) -> FileData | None:  # type: ignore[override]
        """A .glb path -> FileData (Gradio copies it to its cache and fills in the URL)."""
        if value is None:
            return None
        return FileData(path=str(value), orig_name=Path(value).name)

    def api_info(self) -> dict[str, Any]:
        return FileData.model_json_schema()

    def example_payload(self) -> Any:
        return None

    def example_value(self) -> Any:
        return None
