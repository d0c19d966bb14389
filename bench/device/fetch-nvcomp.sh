#!/usr/bin/env bash
# Here, before a device command that runs nvCOMP: copies nvcomp.h and libnvcomp.so.6 from the
# nvidia-libnvcomp-cu13 wheel in .venv (scripts/install-deps.sh installs it) into .nvcomp/ (ignored,
# about 25 MB), which the device command carries; cmake/nvcomp.cmake finds the headers there and
# bench/device/prepare.sh points TILESTREAM_NVCOMP_LIBRARY at the library.
set -euo pipefail
cd "$(dirname "$0")/../.."
wheel=$(ls -d .venv/lib/python3*/site-packages/nvidia/libnvcomp 2>/dev/null | head -n1)
if [ -z "$wheel" ]; then
  echo "fetch-nvcomp.sh: no nvidia-libnvcomp-cu13 in .venv (run scripts/install-deps.sh)" >&2
  exit 2
fi
rm -rf .nvcomp
mkdir -p .nvcomp/lib64
cp -r "$wheel/include" .nvcomp/
cp "$wheel/lib64/libnvcomp.so.6" .nvcomp/lib64/
du -sh .nvcomp
