"""Choosing the device and loading the three backends by name through ``text3d.backends.registry``; with
``allow_download`` the hub ids among them are downloaded first (``text3d.backends.hub.download_models``)."""

from __future__ import annotations

from dataclasses import dataclass

from depthgen.common.cli import resolve_device
from text3d.backends.hub import download_models
from text3d.backends.protocols import DepthBackend, InpaintBackend, TextToImageBackend
from text3d.config import load_preset


class BackendsUnavailable(RuntimeError):
    """The backend registry cannot be imported (an installation problem, not a user mistake)."""


@dataclass
class Backends:
    """The three models of a run; build once with ``load_backends`` and pass to many ``generate_scene`` calls."""

    t2i: TextToImageBackend | None
    inpaint: InpaintBackend
    depth: DepthBackend

    def names(self) -> dict[str, str | None]:
        return {"t2i": getattr(self.t2i, "name", None), "inpaint": getattr(self.inpaint, "name", None),
                "depth": getattr(self.depth, "name", None)}


def _build(kind: str, name: str, device: str):
    try:
        from text3d.backends.registry import build_backend
    except ImportError as e:
        raise BackendsUnavailable(f"text3d.backends.registry cannot be imported ({e}); "
                                  "reinstall text3d or pass pre-built backends") from e
    try:
        return build_backend(kind, name, device)
    except ValueError:
        raise
    except OSError as e:   # a folder that cannot be read
        first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        raise ValueError(f"cannot load {kind} model {name!r} ({first}); give 'embedded', a local folder "
                         "or a hub id") from None


def model_names(models: object, t2i: str | None = None, inpaint: str | None = None, depth: str | None = None,
                need_t2i: bool = True) -> dict[str, str]:
    """kind -> model name: the given names over ``models`` (a preset's ``backends`` section); without
    ``need_t2i`` (a run from a photo) no text-to-image model. One line of error for an empty name."""
    names = {"t2i": t2i or models.t2i, "inpaint": inpaint or models.inpaint, "depth": depth or models.depth}
    if not need_t2i:
        del names["t2i"]
    for kind, name in names.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"the {kind} model name is empty; give 'embedded', a hub id or a local folder")
    return names


def load_backends(preset: str = "default", t2i: str | None = None, inpaint: str | None = None,
                  depth: str | None = None, device: str = "auto", need_t2i: bool = True,
                  allow_download: bool = False) -> Backends:
    """Build the backends a preset names (each overridable by name or path) on ``device``.

    need_t2i: False skips the text-to-image model (a run that starts from a photo); allow_download: download
    the named hub ids that the local Hugging Face cache lacks first (otherwise such an id is a ValueError).
    """
    names = model_names(load_preset(preset).backends, t2i, inpaint, depth, need_t2i)
    dev = resolve_device(device)
    if allow_download:
        download_models(names.values())
    return Backends(t2i=_build("t2i", names["t2i"], dev) if need_t2i else None,
                    inpaint=_build("inpaint", names["inpaint"], dev), depth=_build("depth", names["depth"], dev))
