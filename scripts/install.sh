#!/usr/bin/env bash
# Set up a fresh Debian machine (as root) or an existing environment for text3d.
#   bash scripts/install.sh          # run-time dependencies
#   bash scripts/install.sh --test   # plus what the tests need (Chromium, Playwright, gradio_client)
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

apt_pkgs=(libusb-1.0-0 libgomp1)
[ $want_test = 1 ] && apt_pkgs+=(chromium)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "install.sh: please install these Debian packages as root: ${missing[*]}" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
# The CPU build of PyTorch lies on this machine's disk; a plain 'torch' would pull a multi-GB CUDA build.
$PY -c "import torch" 2>/dev/null || $PY -m pip install -q torch==2.13.0
extra=""
[ $want_test = 1 ] && extra="[test]"
if ! $PY -c "import text3d, depthgen, diffusers, open3d, trimesh, gradio" 2>/dev/null || [ $want_test = 1 ]; then
  $PY -m pip install -q --disable-pip-version-check -e ".${extra}"
fi
