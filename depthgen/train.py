"""``python -m depthgen.train``: train (or export) a DepthGen, regression or Palette model from a recipe.

The command is ``depthgen.training.task.main`` (the task per recipe stage) on the shared trainer; see ``--help``.
"""

from depthgen.training.task import cli, main

__all__ = ["cli", "main"]

if __name__ == "__main__":
    cli()
