#!/usr/bin/env bash
# Every benchmark on the shipped models in assets/, with the settings docs/RESULTS.md reports, then the page.
# On a 2-core CPU: about 20 minutes (pairs of one-thread benchmarks side by side; the speed benchmark alone).
#   bash scripts/run_benchmarks.sh            # all
#   bash scripts/run_benchmarks.sh --quick    # a smoke run of each (tiny data, few steps)
set -euo pipefail
cd "$(dirname "$0")/.."
q=${1:-}
one() { OMP_NUM_THREADS=1 python3 "$@"; }
one -m bench.depth_accuracy $q & one -m bench.completion $q & wait
one -m bench.uncertainty $q & one -m bench.reconstruction $q & wait
one -m bench.inpainting $q & one -m bench.bench_t2i & wait
python3 -m bench.speed $q                      # alone: it times things
# the paper's ablations at the budget of docs/bench_ablations.md (100 steps per variant from the pretraining)
python3 -m bench.ablations --steps 100 --set train.warmup_steps=10 --n 10 --eval-samples 2 --eval-steps 10 $q
python3 -m bench.results
