"""Peak resident memory of reading a ``shards:`` stream as the data grow (depthgen.data.shards).

    python bench/data_memory.py [--sizes 1000 10000 100000] [--side 16] [--work DIR] [--out docs/training/data_memory.md]

For each size N: write N synthetic samples (side x side) as tar shards of 1000, then, in a fresh process, read every
sample in a random order through ``open_dataset("shards:DIR")`` and report that process's peak RSS (ru_maxrss) beside
its RSS right after the imports. Writes a markdown table to ``--out``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

READER = '''
import resource, sys
import numpy as np
from depthgen.data.registry import open_dataset
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ds = open_dataset("shards:" + sys.argv[1])
for i in np.random.default_rng(0).permutation(len(ds)):
    ds[int(i)]
print(len(ds), base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
'''


def measure(n: int, side: int, work: Path) -> tuple[int, float, float]:
    """(items, RSS after imports MiB, peak RSS after reading every item MiB)."""
    from depthgen.data.shards import write_tar_shards
    from depthgen.data.synthetic import SyntheticDataset

    out = work / f"shards-{n}"
    if not (out / "index.json").is_file():
        ds = SyntheticDataset(n, side)
        write_tar_shards((ds[i] for i in range(n)), out, 1000, source=f"synthetic:{n}:{side}")
    res = subprocess.run([sys.executable, "-c", READER, str(out)], capture_output=True, text=True, check=True)
    items, base, peak = map(int, res.stdout.split())
    return items, base / 1024, peak / 1024


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    p.add_argument("--side", type=int, default=16)
    p.add_argument("--work", default=None, help="folder for the shards (default: a temporary one)")
    p.add_argument("--out", default="docs/training/data_memory.md")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(a.work or tmp)
        rows = [(n, *measure(n, a.side, work)) for n in a.sizes]
    lines = ["# Reading a `shards:` stream: peak memory", "",
             f"`python bench/data_memory.py` ({a.side}x{a.side} synthetic samples, tar shards of 1000, every sample "
             "read once in a random order, in a fresh process).", "",
             "| samples | RSS after imports (MiB) | peak RSS after reading all (MiB) | growth (MiB) |",
             "|---:|---:|---:|---:|"]
    lines += [f"| {n:,} | {base:.0f} | {peak:.0f} | {peak - base:.1f} |" for n, _, base, peak in rows]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
