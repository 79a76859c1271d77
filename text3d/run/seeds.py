"""The run's one seed rule: (seed, view index, model role) -> ``torch.Generator``.

It builds on depthgen's rule (``depthgen.training.trainer.seed_generator``: a CPU generator seeded with one
number). The number of each draw site is derived from ``numpy.random.SeedSequence([seed, index, role])``, so
every view and every model has its own stream: a run stays reproducible even if one backend consumes more or
fewer random numbers than another. Seeds take 0..``MAX_SEED`` (2**63 - 1); the high 32 bits of a seed above
2**32 - 1 enter as a fourth word (never zero, so no such seed shares its words with a smaller one).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

MAX_SEED = 2**63 - 1


class Role(IntEnum):
    """The model a random draw is for."""

    T2I = 0
    INPAINT = 1
    DEPTH = 2
    UPSCALE = 3


def site_seed(seed: int, index: int, role: Role | int) -> int:
    """The 64-bit seed of one draw site: view ``index`` (0 = the first view), model ``role``."""
    seed = int(seed)
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be within 0..{MAX_SEED} (2**63 - 1), got {seed}")
    words = [seed & 0xFFFFFFFF, int(index), int(role)] + ([seed >> 32] if seed >> 32 else [])
    state = np.random.SeedSequence(words).generate_state(2, np.uint32)
    return int(state[0]) << 32 | int(state[1])


def view_generator(seed: int, index: int, role: Role | int):
    """A CPU ``torch.Generator`` for view ``index`` and model ``role`` of the run with ``seed``."""
    from depthgen.training.trainer import seed_generator  # imports the trainer's dependencies: on first use only

    return seed_generator(site_seed(seed, index, role))
