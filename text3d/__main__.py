"""``python -m text3d "a cozy library"`` is ``python -m text3d.generate``."""

from text3d.generate import cli

if __name__ == "__main__":
    cli()
