"""The models behind the page, loaded once per set of model names and shared by every request.

Why a pool: loading the models takes far longer than a preview run, so the server loads them at start-up
(``warm``) and every request reuses them; a preset naming other models loads those once, on first use.
"""

from __future__ import annotations

import threading
from typing import Callable

LoadFn = Callable[..., object]   # text3d.load_backends(preset=..., t2i=..., inpaint=..., depth=..., device=...)


def _default_load(preset: str, **kwargs):
    import text3d

    return text3d.load_backends(preset=preset, **kwargs)


def _model_names(preset: str, models: dict[str, str]) -> dict[str, str]:
    """The models a preset names, with the server's ``models`` overrides (kind -> name) applied."""
    from text3d.config import load_preset

    b = load_preset(preset).backends
    return {"t2i": b.t2i, "inpaint": b.inpaint, "depth": b.depth, **models}


class BackendPool:
    """Gives the loaded backends for a preset, loading each distinct set of models at most once.

    models: kind ("t2i", "inpaint", "depth") -> name overriding every preset's choice (server flags);
    fixed: backends to use for every preset (tests, stand-ins); presets then change only the run settings.
    """

    def __init__(self, device: str = "auto", load_fn: LoadFn | None = None, fixed: object | None = None,
                 models: dict[str, str] | None = None):
        self.device = device
        self.load_fn = load_fn or _default_load
        self.fixed = fixed
        self.models = {k: v for k, v in (models or {}).items() if v}
        self._loaded: dict[tuple[str, ...], object] = {}
        self._lock = threading.Lock()
        self.loads = 0                    # how many times models were actually loaded (tests check reuse)

    def names(self, preset: str) -> dict[str, str]:
        """kind -> the model name this pool loads for ``preset`` (the server's overrides applied)."""
        return _model_names(preset, self.models)

    def get(self, preset: str):
        """The backends for ``preset``; ValueError (one line) if they cannot be loaded."""
        if self.fixed is not None:
            return self.fixed
        names = self.names(preset)
        key = (names["t2i"], names["inpaint"], names["depth"], self.device)   # same models -> one load
        with self._lock:                  # one load at a time; a second request for the same models waits
            if key not in self._loaded:
                self._loaded[key] = self.load_fn(preset=preset, device=self.device, **names)
                self.loads += 1
            return self._loaded[key]

    def warm(self, preset: str) -> None:
        """Load the models of ``preset`` now (server start-up), so the first visitor does not wait."""
        self.get(preset)

    def describe(self, preset: str) -> str:
        """Model names for the page, without loading anything."""
        if self.fixed is not None and hasattr(self.fixed, "names"):
            names = self.fixed.names()
        else:
            try:
                names = self.names(preset)
            except ValueError as e:
                return str(e)
        return ", ".join(f"{k}: {v}" for k, v in names.items() if v)
