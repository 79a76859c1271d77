"""Write the published TAEF2 state dicts as a ``TinyAutoencoder`` folder (fp16 safetensors + config + licence).

    python -m text3d.models.autoencoder.convert --encoder taef2_encoder.pth --decoder taef2_decoder.pth \
        --license LICENSE --out assets/autoencoder
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Sequence

import torch

from depthgen.common.io import atomic_dir
from text3d.models.autoencoder.model import TinyAutoencoder


def convert(encoder: Path, decoder: Path, license_file: Path, out: Path) -> Path:
    """Load both halves, save them in float16 beside the licence, atomically. Returns ``out``."""
    for p in (encoder, decoder, license_file):
        if not p.is_file():
            raise ValueError(f"{p} is not a file")
    model = TinyAutoencoder.load_published(encoder, decoder).to(torch.float16)
    with atomic_dir(out) as tmp:
        model.save_pretrained(str(tmp))
        shutil.copyfile(license_file, tmp / "LICENSE")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--encoder", required=True, type=Path)
    ap.add_argument("--decoder", required=True, type=Path)
    ap.add_argument("--license", required=True, type=Path, help="the licence file, copied beside the weights")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    try:
        convert(args.encoder, args.decoder, args.license, args.out)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
