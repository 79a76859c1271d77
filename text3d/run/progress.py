"""Progress reporting: per-phase progress -> (phase, fraction of the whole run) callbacks and tqdm bars.

The phases of a run, in order: ``first view``, ``views``, ``clean-up``, ``fusion``, ``export``, ``video``.
"""

from __future__ import annotations

from typing import Callable

ProgressFn = Callable[[str, float], None]  # (phase, fraction 0..1 of the whole run)


class Progress:
    """Turns per-phase progress into ``callback(phase, fraction_of_run)`` calls, with one tqdm bar per phase.

    plan: phase name -> relative weight (expected share of the run's time), in run order.
    """

    def __init__(self, plan: dict[str, float], callback: ProgressFn | None = None, bars: bool = False):
        total = sum(plan.values()) or 1.0
        self.start: dict[str, float] = {}
        acc = 0.0
        for phase, weight in plan.items():
            self.start[phase] = acc / total
            acc += weight
        self.weight = {s: w / total for s, w in plan.items()}
        self.callback, self.bars = callback, bars
        self._bar, self._phase = None, None

    def __call__(self, phase: str, fraction: float) -> None:
        """Report that ``phase`` is ``fraction`` (0..1) done."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        if self.bars:
            if phase != self._phase:
                self.close()
                from tqdm.auto import tqdm

                self._bar = tqdm(total=100, desc=f"{phase:>8}", unit="%", leave=True)
                self._phase = phase
            self._bar.update(int(round(fraction * 100)) - self._bar.n)
        if self.callback is not None:
            self.callback(phase, self.start.get(phase, 0.0) + self.weight.get(phase, 0.0) * fraction)

    def phase(self, phase: str) -> Callable[[float], None]:
        """A one-argument reporter for ``phase``."""
        return lambda fraction: self(phase, fraction)

    def close(self) -> None:
        """Close the open bar, if any."""
        if self._bar is not None:
            self._bar.close()
            self._bar, self._phase = None, None
