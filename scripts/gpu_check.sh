#!/usr/bin/env bash
# One short call on a CUDA machine: the default preset (the embedded models) and the sd preset (tiny random Stable
# Diffusion and Marigold models under the preset's hub ids, from a temporary cache: nothing is downloaded) on the
# GPU, with per-stage timings and peak GPU memory written to OUT_DIR/gpu_check.json (bench/gpu_check.py).
#
#   bash scripts/gpu_check.sh OUT_DIR [--quick]
set -euo pipefail
if [[ $# -lt 1 || "$1" == -* ]]; then
  echo "usage: bash scripts/gpu_check.sh OUT_DIR [--quick]" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
out="$1"
shift
exec python3 -m bench.gpu_check --device cuda --out-dir "$out" "$@"
