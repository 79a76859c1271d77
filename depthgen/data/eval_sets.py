"""Evaluation datasets: ``parse_data_spec`` opens a ``--data`` spec for evaluation (the test split of
``depthgen.data.registry.open_dataset``: one grammar for training and evaluation), and the evaluation protocol a
dataset or item asks for.

Datasets carry their default evaluation protocol in ``protocol`` (a ``depthgen.evaluation.metrics.PROTOCOLS``
name); a sample may carry its own in ``sample["protocol"]`` (procedural scenes: ``nyu`` caps indoors, ``kitti`` caps
outdoors). ``default_crop`` (when set) replaces the protocol's crop: the Eigen and Garg crops describe NYU/KITTI
sensor frames, so procedural sets use ``"none"``.
"""

from __future__ import annotations

import torch

from depthgen.data.procedural.dataset import ProceduralEvalSet
from depthgen.data.registry import SPEC_HELP, open_dataset

__all__ = ["ProceduralEvalSet", "SPEC_HELP", "parse_data_spec", "dataset_default_protocol"]


def parse_data_spec(spec: str, *, depth_scale: float | None = None) -> torch.utils.data.Dataset:
    """The evaluation dataset named by ``spec``: ``open_dataset(spec, "test", depth_scale=...)``."""
    return open_dataset(spec, "test", depth_scale=depth_scale)


def dataset_default_protocol(dataset: object, item: dict | None = None) -> str:
    """The protocol name a dataset (or one of its items) asks for when the user names none."""
    if item is not None and item.get("protocol"):
        return str(item["protocol"])
    return getattr(dataset, "protocol", None) or "none"

