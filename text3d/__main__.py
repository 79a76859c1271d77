"""``python -m text3d "a cozy library"`` is ``python -m text3d.generate`` (the command line, ``text3d.cli``)."""

from text3d.cli import cli

if __name__ == "__main__":
    cli()
