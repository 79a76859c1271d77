"""What every command line of the project shares: one-line argument errors, WxH sizes, device names.

Sizes: a user types width x height (``320x240``, like image viewers and ``--size`` of ``text3d.generate``);
code holds ``(height, width)`` like the arrays it sizes. ``parse_size`` is the one place that turns one into
the other.
"""

from __future__ import annotations

import argparse

import torch


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse`` parser whose errors raise ``ValueError`` (one line) instead of printing usage and
    exiting, so that ``main(argv)`` prints ``error: ...`` and returns 2. ``--help`` still exits 0."""

    def error(self, message: str):
        raise ValueError(f"{message} (see --help)")


def parse_size(text: str, what: str = "--size", minimum: int = 1) -> tuple[int, int]:
    """A typed size ``"WxH"`` (or ``"N"`` for N x N) -> ``(height, width)`` ints.

    ``ValueError`` (one line, naming ``what``) on anything else or on a side below ``minimum``.
    """
    parts = str(text).strip().lower().replace("×", "x").split("x")
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"{what} {text!r} must look like WIDTHxHEIGHT, e.g. 320x240")
    width, height = int(parts[0]), int(parts[1])
    if min(width, height) < minimum:
        raise ValueError(f"{what} {text!r}: width and height must both be >= {minimum}")
    return height, width


def format_size(height: int, width: int) -> str:
    """``(height, width)`` -> the typed form ``"WxH"`` (the inverse of ``parse_size``)."""
    return f"{int(width)}x{int(height)}"


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; ``cpu``, ``cuda`` and ``cuda:N`` pass through.

    ``ValueError`` for another name, or for ``cuda`` when no GPU is visible.
    """
    device = str(device)
    if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"unknown device {device!r}; use auto, cpu or cuda")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for but no CUDA GPU is visible; use --device cpu or auto")
    return device
