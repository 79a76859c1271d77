"""The keyword options of one view's inpainting call: the preset's settings (``text3d.config.inpaint_options``)
and, for a backend that starts new content from a level picture of the scene (a layout), the view's tilt."""

from __future__ import annotations

from typing import Any

import numpy as np

from text3d.config import Text3DConfig, inpaint_options
from text3d.trajectory import level_view_homography


def view_inpaint_options(cfg: Text3DConfig, backend: Any, K: np.ndarray, cam_to_world: np.ndarray) -> dict[str, Any]:
    """``inpaint_options(cfg)`` plus, when ``backend.takes_layout_transform``, ``layout_transform``: the (3, 3)
    pixel map from a level camera to the view (``level_view_homography``; ``K`` (3, 3) at the size of the
    image the backend is given, ``cam_to_world`` (4, 4)), so that a view tilted down starts its new content
    from floor and one tilted up from ceiling or sky."""
    options: dict[str, Any] = inpaint_options(cfg)
    if getattr(backend, "takes_layout_transform", False):
        options["layout_transform"] = level_view_homography(K, cam_to_world)
    return options
