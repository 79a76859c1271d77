"""text3d: text-to-3D scenes from a text-to-image model, image inpainting and DepthGen.

``text3d.generate(prompt, ...)`` returns a ``Text3DResult``; ``text3d.load_backends(...)`` builds the models
once for many runs. Importing the package loads no model.

The command line is the package ``text3d.generate`` (``python -m text3d.generate``; ``main(argv)``).
Importing a subpackage makes it an attribute of its parent, so it is imported here first and the name
``generate`` is then bound to the API function: ``text3d.generate`` stays the function whatever is imported
later, and ``from text3d.generate import main`` still reaches the command line.
"""

from __future__ import annotations

import text3d.generate  # noqa: F401  (the CLI package; imported before the function takes its name)
from text3d.config import load_preset
from text3d.loading import Backends, load_backends
from text3d.pipeline import generate
from text3d.result import Text3DResult

__all__ = ["generate", "Text3DResult", "load_backends", "Backends", "load_preset"]
