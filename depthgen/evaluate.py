"""``python -m depthgen.evaluate``: score a saved DepthGen pipeline on a depth dataset.

The command is ``depthgen.evaluation.evaluate.main``; the Python API (``evaluate_model``) lives there too.
"""

from depthgen.evaluation.evaluate import cli, main

__all__ = ["cli", "main"]

if __name__ == "__main__":
    cli()
