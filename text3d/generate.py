"""``python -m text3d.generate "a cozy library" [...]``: the command line (``text3d.cli``) under the name the
README and CI use. The Python API is ``text3d.generate_scene``."""

from __future__ import annotations

import sys

from text3d.cli import main

if __name__ == "__main__":
    sys.exit(main())
