"""depthgen.common.cli: the one size convention (typed WxH, held (H, W)), the one device resolver, one-line errors."""

from __future__ import annotations

import pytest
import torch

from depthgen.common.cli import ArgumentParser, format_size, parse_size, resolve_device


@pytest.mark.parametrize("text, hw", [("320x240", (240, 320)), ("64", (64, 64)), (" 48X32 ", (32, 48)),
                                      ("96×64", (64, 96))])
def test_parse_size_reads_width_first(text, hw):
    assert parse_size(text) == hw
    assert parse_size(format_size(*hw)) == hw


@pytest.mark.parametrize("text", ["big", "64by64", "1x2x3", "x64", "-4x4", ""])
def test_parse_size_rejects_bad_text_in_one_line(text):
    with pytest.raises(ValueError, match="WIDTHxHEIGHT") as e:
        parse_size(text, "--size")
    assert "\n" not in str(e.value)


def test_parse_size_minimum():
    with pytest.raises(ValueError, match=">= 8"):
        parse_size("4x16", minimum=8)


def test_resolve_device():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_parser_errors_are_value_errors():
    p = ArgumentParser(prog="x")
    p.add_argument("--n", type=int)
    with pytest.raises(ValueError, match="--n"):
        p.parse_args(["--n", "two"])
