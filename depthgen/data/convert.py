"""Write any dataset spec as streamable tar shards (depthgen.data.shards), read back with ``shards:DIR``::

    python -m depthgen.data.convert SPEC --out DIR [--split train] [--shard-size 1000] [--limit N]

SPEC is any ``depthgen.data.registry`` spec (``nyu:...``, ``kitti:...``, ``folder:DIR?frames=0-599`` ...). Samples
are read in order and written one shard at a time, so memory stays flat. Exit codes: 0 done, 2 bad input (one line).
"""

from __future__ import annotations

import sys
from typing import Any, Iterator, Sequence

from depthgen.common.cli import ArgumentParser
from depthgen.data.registry import open_dataset
from depthgen.data.shards import write_tar_shards


def _items(dataset: Any, limit: int | None) -> Iterator[dict]:
    n = len(dataset) if limit is None else min(len(dataset), limit)
    for i in range(n):
        yield dataset[i]


def convert(spec: str, out: str, split: str = "train", shard_size: int = 1000, limit: int | None = None) -> int:
    """Write ``spec``'s ``split`` to ``out`` as tar shards; returns the number of samples written."""
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be >= 1, got {limit}")
    return write_tar_shards(_items(open_dataset(spec, split), limit), out, shard_size, source=spec)


def main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(prog="python -m depthgen.data.convert", description=__doc__.split("\n\n")[0])
    p.add_argument("spec", help="dataset spec, e.g. nyu:SYNC_DIR:LIST or folder:DIR?frames=0-599")
    p.add_argument("--out", required=True, help="folder for shard-*.tar and index.json")
    p.add_argument("--split", default="train", choices=["train", "val", "test"])
    p.add_argument("--shard-size", type=int, default=1000, help="samples per tar shard")
    p.add_argument("--limit", type=int, default=None, help="convert only the first N samples")
    try:
        args = p.parse_args(argv)
        n = convert(args.spec, args.out, args.split, args.shard_size, args.limit)
    except SystemExit as e:
        return int(e.code or 0)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {n} samples to {args.out} (read them with --data shards:{args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
