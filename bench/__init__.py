"""Benchmarks: one script per benchmark, each writing ``docs/bench_<name>.{md,json,png}``; ``bench.results``
gathers them into ``docs/RESULTS.md``. See ``bench/common.py`` for the shared helpers."""
