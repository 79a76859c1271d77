"""text3d web UI: ``python app.py`` serves it on http://127.0.0.1:7860 (``--help`` lists the flags).

The page itself lives in ``text3d/ui/``; this file is only the entry point.
"""

from text3d.ui.server import cli

if __name__ == "__main__":
    cli()
