"""A local stand-in for the Hugging Face hub: saved model folders placed in a cache folder under hub ids, in the
layout huggingface_hub reads offline (``models--org--name/snapshots/<commit>``, ``refs/main``)."""

from __future__ import annotations

import shutil
from pathlib import Path

COMMIT = "0" * 40


def put_in_hub_cache(folder: Path, repo_id: str, cache: Path) -> Path:
    """Copy ``folder`` into the cache ``cache`` (what ``HF_HUB_CACHE`` names) as ``repo_id``; the snapshot folder."""
    repo = Path(cache) / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / COMMIT
    shutil.copytree(folder, snapshot)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(COMMIT)
    return snapshot
