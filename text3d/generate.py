"""``python -m text3d.generate "a cozy library" [...]``: the command line (``text3d.cli``) under the name the
README and CI use. The Python API is ``text3d.generate_scene``."""

from __future__ import annotations

from text3d.cli import cli

if __name__ == "__main__":
    cli()
