"""Progress reporting: per-stage progress -> (stage, fraction of the whole run) callbacks and tqdm bars."""

from __future__ import annotations

from typing import Callable

ProgressFn = Callable[[str, float], None]


class Progress:
    """Turns per-stage progress into ``callback(stage, fraction_of_run)`` calls, with one tqdm bar per stage.

    plan: stage name -> relative weight (expected share of the run's time), in run order.
    """

    def __init__(self, plan: dict[str, float], callback: ProgressFn | None = None, bars: bool = False):
        total = sum(plan.values()) or 1.0
        self.start: dict[str, float] = {}
        acc = 0.0
        for stage, weight in plan.items():
            self.start[stage] = acc / total
            acc += weight
        self.weight = {s: w / total for s, w in plan.items()}
        self.callback, self.bars = callback, bars
        self._bar, self._stage = None, None

    def __call__(self, stage: str, fraction: float) -> None:
        """Report that ``stage`` is ``fraction`` (0..1) done."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        if self.bars:
            if stage != self._stage:
                self.close()
                from tqdm.auto import tqdm

                self._bar = tqdm(total=100, desc=f"{stage:>8}", unit="%", leave=True)
                self._stage = stage
            self._bar.update(int(round(fraction * 100)) - self._bar.n)
        if self.callback is not None:
            self.callback(stage, self.start.get(stage, 0.0) + self.weight.get(stage, 0.0) * fraction)

    def stage(self, stage: str) -> Callable[[float], None]:
        """A one-argument reporter for ``stage``."""
        return lambda fraction: self(stage, fraction)

    def close(self) -> None:
        """Close the open bar, if any."""
        if self._bar is not None:
            self._bar.close()
            self._bar, self._stage = None, None
