"""Hugging Face hub ids: finding them in the local cache, and downloading them only when the user says so.

Loading never touches the network: a hub id is looked up in the local Hugging Face cache (``HF_HUB_CACHE``, or
``HF_HOME/hub``, read when called) and loaded from its snapshot folder like any local folder. Downloading is a
separate, explicit step, ``download_models`` (the CLI's ``--allow-download``, the UI's "Allow downloads" box,
``text3d.load_backends(allow_download=True)``): diffusers pipelines through ``DiffusionPipeline.download`` (the
files ``from_pretrained`` would fetch, not every variant in the repository), transformers models through
``snapshot_download`` of their configs and safetensors weights. A removed repository is refused with the id
that replaced it (``text3d.backends.hub_ids``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

from text3d.backends.hub_ids import removed_message

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
SWITCH = "--allow-download (UI: the 'Allow downloads' box)"
# what a transformers depth-estimation repository needs (configs, the image processor, safetensors weights)
TRANSFORMERS_FILES = ("*.json", "*.txt", "*.safetensors")


def hub_cache() -> str | None:
    """The Hugging Face cache folder the environment names now (``HF_HUB_CACHE``, else ``HF_HOME/hub``), or None
    for the library default. Read at call time: the libraries read it once, at import."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    return os.path.join(os.environ["HF_HOME"], "hub") if os.environ.get("HF_HOME") else None


def is_hub_id(spec: str) -> bool:
    """True for an ``org/name`` id that is not a folder here."""
    return bool(HUB_ID.match(spec)) and not Path(spec).expanduser().exists()


def check_not_removed(spec: str) -> None:
    """ValueError naming the replacement when ``spec`` is a removed repository."""
    message = removed_message(spec)
    if message is not None:
        raise ValueError(message)


def cached_snapshot(spec: str, kind: str) -> Path:
    """The local snapshot folder of hub id ``spec`` (no network). Not cached -> one-line ValueError naming the id
    and the download switch; a removed id -> ValueError naming its replacement."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(spec, cache_dir=hub_cache(), local_files_only=True))
    except Exception:  # huggingface_hub raises several unrelated classes for "not in the cache"
        check_not_removed(spec)
        raise ValueError(f"{kind} model {spec} is not in the local Hugging Face cache; download it with {SWITCH} "
                         "or give a local folder") from None


# the hub client's own errors that say more than the HTTP status beneath them
HUB_ERRORS = {"GatedRepoError": "a gated repository: accept its terms on the hub and log in (hf auth login)",
              "RepositoryNotFoundError": "no such repository on the hub (misspelt, removed, or private)",
              "RevisionNotFoundError": "no such revision of the repository on the hub"}


def root_cause(error: BaseException) -> str:
    """One line: what the hub client said (a missing or gated repository), else the innermost exception of
    ``error``'s chain (class name and first line of its message: no connection, a full disk, ...)."""
    chain = [error]
    while (chain[-1].__cause__ or chain[-1].__context__) is not None and len(chain) < 50:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    for e in chain:
        if e.__class__.__name__ in HUB_ERRORS:
            return HUB_ERRORS[e.__class__.__name__]
    first = next((line.strip() for line in str(chain[-1]).splitlines() if line.strip()), "")
    return f"{chain[-1].__class__.__name__}: {first}" if first else chain[-1].__class__.__name__


def download(spec: str) -> Path:
    """Fetch hub id ``spec`` into the local cache unless it is there already; its snapshot folder. A failure is a
    ValueError whose one line gives the real cause (no connection, repository not found, gated, ...)."""
    from huggingface_hub import hf_hub_download, snapshot_download
    from huggingface_hub.errors import RemoteEntryNotFoundError

    cache = hub_cache()
    try:
        return Path(snapshot_download(spec, cache_dir=cache, local_files_only=True))
    except Exception:
        check_not_removed(spec)  # not cached, and no longer on the hub either
    try:
        try:
            hf_hub_download(spec, "model_index.json", cache_dir=cache)  # a diffusers pipeline repository?
        except RemoteEntryNotFoundError:  # the hub has the repository but no model_index.json: transformers
            return Path(snapshot_download(spec, cache_dir=cache, allow_patterns=list(TRANSFORMERS_FILES)))
        from diffusers import DiffusionPipeline

        return Path(DiffusionPipeline.download(spec, cache_dir=cache))
    except Exception as e:
        raise ValueError(f"downloading {spec} failed: {root_cause(e)}") from None


def download_models(names: Iterable[str | None]) -> list[str]:
    """Download the hub ids among ``names`` (model names as a preset or the CLI gives them; 'embedded', folders and
    None are skipped) that the local cache lacks; returns the hub ids, in order."""
    ids = [n.strip() for n in names if isinstance(n, str) and n.strip() != "embedded" and is_hub_id(n.strip())]
    ids = list(dict.fromkeys(ids))
    for spec in ids:
        download(spec)
    return ids
