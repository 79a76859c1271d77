"""The run's one seed rule: (seed, view index, model role) -> ``torch.Generator``.

It builds on depthgen's rule (``depthgen.training.trainer.seed_generator``: a CPU generator seeded with one
number). The number of each draw site is derived from ``numpy.random.SeedSequence([seed, index, role])``, so
every view and every model has its own stream: a run stays reproducible even if one backend consumes more or
fewer random numbers than another.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Role(IntEnum):
    """The model a random draw is for."""

    T2I = 0
    INPAINT = 1
    DEPTH = 2
    UPSCALE = 3


def site_seed(seed: int, index: int, role: Role | int) -> int:
    """The 64-bit seed of one draw site: view ``index`` (0 = the first view), model ``role``."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(index), int(role)]).generate_state(2, np.uint32)
    return int(state[0]) << 32 | int(state[1])


def view_generator(seed: int, index: int, role: Role | int):
    """A CPU ``torch.Generator`` for view ``index`` and model ``role`` of the run with ``seed``."""
    from depthgen.training.trainer import seed_generator  # imports the trainer's dependencies: on first use only

    return seed_generator(site_seed(seed, index, role))
