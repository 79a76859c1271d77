"""``python -m text3d "a cozy library"`` is ``python -m text3d.generate`` (the command line, ``text3d.cli``)."""

import sys

from text3d.cli import main

if __name__ == "__main__":
    sys.exit(main())
