"""``python -m text3d.generate "a cozy library" ...``: the command line of ``text3d.generate``'s package."""

from text3d.generate import cli

if __name__ == "__main__":
    cli()
