"""text3d: text-to-3D scenes from a text-to-image model, image inpainting and DepthGen.

``text3d.generate_scene(prompt, ...)`` returns a ``Text3DResult``; ``text3d.load_backends(...)`` builds the
models once for many runs. Importing the package loads no model.

Packages: ``geometry`` (pure functions on arrays), ``run`` (a run: inputs, camera, trajectory, scene building,
view filling, clean-up, outputs), ``backends`` (the model interfaces and their implementations), ``models``
(the embedded image models), ``ui`` (the Gradio app). The command line is ``text3d.cli``, run by
``python -m text3d.generate`` (``text3d/generate.py``) and ``python -m text3d``.
"""

from __future__ import annotations

from text3d.backends.loading import Backends, load_backends
from text3d.config import load_preset
from text3d.run.api import generate_scene
from text3d.run.result import Text3DResult

__all__ = ["generate_scene", "Text3DResult", "load_backends", "Backends", "load_preset"]
