"""``build_backend(kind, spec, device)``: turn a backend name into a loaded backend.

spec is one of
- ``embedded``: the project's own model in ``assets/`` (``assets/t2i``, ``assets/inpaint``, ``assets/depthgen``),
  found relative to the installed project; ``embedded-latent``: its latent image models (``assets/t2i-latent``,
  ``assets/inpaint-latent``: 256-px views painted in the TAEF2 autoencoder's latent space);
- a local pipeline folder: the class named in its ``model_index.json`` chooses the backend
  (``TextToImagePipeline`` / ``PalettePipeline`` / ``DepthGenPipeline`` / any diffusers Stable Diffusion
  pipeline; for depth also ``MarigoldDepthPipeline``), or, for depth, a transformers ``depth-estimation`` model
  folder (``config.json`` with a ``...ForDepthEstimation`` architecture: DPT, Depth Anything, ...);
- a hub id (``org/name``): its snapshot folder in the local Hugging Face cache, loaded as above. Nothing is
  downloaded here: ``text3d.backends.hub.download_models`` does that, when the user allows it (``--allow-download``).
  A removed repository is named with its replacement (``text3d.backends.hub_ids``).
"""

from __future__ import annotations

import json
from pathlib import Path

from text3d.backends import hub

KINDS = ("t2i", "inpaint", "depth")
ASSETS = Path(__file__).resolve().parents[2] / "assets"
EMBEDDED_DIRS = {"t2i": "t2i", "inpaint": "inpaint", "depth": "depthgen"}
EMBEDDED_LATENT_DIRS = {"t2i": "t2i-latent", "inpaint": "inpaint-latent"}
EMBEDDED = {"embedded": EMBEDDED_DIRS, "embedded-latent": EMBEDDED_LATENT_DIRS}  # spec -> kind -> assets/ folder
# pipeline class in model_index.json -> the kind of model it is
OWN_CLASSES = {"TextToImagePipeline": "t2i", "TextInpaintPipeline": "inpaint", "PalettePipeline": "inpaint",
               "DepthGenPipeline": "depth"}
DEPTH_CLASSES = ("DepthGenPipeline", "MarigoldDepthPipeline")


def _choices(kind: str) -> str:
    if kind == "depth":
        return (f"'embedded' ({ASSETS / EMBEDDED_DIRS[kind]}), a DepthGen or Marigold pipeline folder, a transformers "
                "depth-estimation model folder, or a hub id like org/name")
    return (f"'embedded' ({ASSETS / EMBEDDED_DIRS[kind]}), 'embedded-latent' ({ASSETS / EMBEDDED_LATENT_DIRS[kind]}), "
            "a local pipeline folder, or a diffusers hub id like org/name")


def _transformers_depth_model(path: Path) -> bool:
    """True for a transformers model folder whose config names a depth-estimation architecture."""
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and any(str(a).endswith("ForDepthEstimation")
                                            for a in config.get("architectures") or [])


def _depth_from_folder(path: Path, device: str, name: str, cls_name: str | None):
    from text3d.backends import depth

    if cls_name == "DepthGenPipeline":
        return depth.DepthGenBackend.from_path(path, device, name)
    if cls_name == "MarigoldDepthPipeline":
        return depth.MarigoldDepthBackend.from_pretrained(path, device, name=name)
    if cls_name is None and _transformers_depth_model(path):
        return depth.TransformersDepthBackend.from_pretrained(path, device, name=name)
    what = f"a {cls_name}" if cls_name else "no model_index.json and no depth-estimation config.json"
    raise ValueError(f"{name} holds {what}, not a DepthGenPipeline, MarigoldDepthPipeline or transformers "
                     f"depth-estimation model")


def _from_folder(kind: str, path: Path, device: str, name: str):
    index = path / "model_index.json"
    if kind == "depth" and not index.is_file():
        return _load_depth(path, device, name, None)
    if not index.is_file():
        if _transformers_depth_model(path):
            raise ValueError(f"{name} holds a transformers depth-estimation model, not a {kind} model; "
                             "give it as --depth")
        raise ValueError(f"{name} is not a pipeline folder (no model_index.json); give {_choices(kind)}")
    cls_name = json.loads(index.read_text(encoding="utf-8")).get("_class_name", "")
    own = "depth" if cls_name in DEPTH_CLASSES else OWN_CLASSES.get(cls_name)
    if own is not None and own != kind:
        raise ValueError(f"{name} holds a {cls_name} ({own} model), not a {kind} model; give it as --{own}")
    if kind == "t2i" and own:
        from text3d.backends.embedded import EmbeddedTextToImage

        return EmbeddedTextToImage.from_path(path, device, name)
    if kind == "inpaint" and cls_name == "TextInpaintPipeline":
        from text3d.backends.embedded import EmbeddedTextInpaint

        return EmbeddedTextInpaint.from_path(path, device, name)
    if kind == "inpaint" and own:
        from text3d.backends.embedded import EmbeddedInpaint

        return EmbeddedInpaint.from_path(path, device, name)
    if kind == "depth":
        return _load_depth(path, device, name, cls_name or "unknown pipeline")
    return _diffusers(kind, path, device, name)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [error.__class__.__name__])[0]


def _load_depth(path: Path, device: str, name: str, cls_name: str | None):
    """A depth backend from a folder; loading failures of a recognised folder become one-line ValueErrors."""
    try:
        return _depth_from_folder(path, device, name, cls_name)
    except (OSError, KeyError, TypeError, RuntimeError) as e:
        raise ValueError(f"cannot load depth model {name} ({_first_line(e)})") from None


def _diffusers(kind: str, path: Path, device: str, name: str):
    from text3d.backends.diffusers_sd import StableDiffusionInpaint, StableDiffusionTextToImage

    cls = StableDiffusionTextToImage if kind == "t2i" else StableDiffusionInpaint
    try:
        backend = cls.from_pretrained(path, device=device)
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise ValueError(f"cannot load {kind} pipeline {name} ({_first_line(e)})") from None
    backend.name = name
    return backend


def build_backend(kind: str, spec: str, device: str = "cpu"):
    """Load the ``kind`` ("t2i" | "inpaint" | "depth") backend named by ``spec`` on ``device``.

    Returns an object implementing the matching protocol of ``text3d.backends.protocols``. Unknown kinds or
    names, missing embedded assets, removed hub ids and hub ids not in the local cache raise ``ValueError``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown backend kind {kind!r}; choose one of {', '.join(KINDS)}")
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"the {kind} model name is empty; give {_choices(kind)}")
    spec = spec.strip()
    if spec in EMBEDDED:
        if kind not in EMBEDDED[spec]:
            raise ValueError(f"there is no {spec} {kind} model; give {_choices(kind)}")
        path = ASSETS / EMBEDDED[spec][kind]
        if not (path / "model_index.json").is_file():
            raise ValueError(f"the {spec} {kind} model is missing ({path} has no model_index.json); "
                             "train and export it, or give a local pipeline folder")
        return _from_folder(kind, path, device, spec)
    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"{path} is a file; give a pipeline folder (with model_index.json)")
        return _from_folder(kind, path, device, spec)
    if hub.is_hub_id(spec):
        return _from_folder(kind, hub.cached_snapshot(spec, kind), device, spec)
    raise ValueError(f"unknown {kind} model {spec!r}: not a folder here; choose {_choices(kind)}")
