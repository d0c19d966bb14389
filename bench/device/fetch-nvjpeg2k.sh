#!/usr/bin/env bash
# Here, before a device command that decodes JPEG 2000 on the GPU: copies nvjpeg2k.h and
# libnvjpeg2k.so.0 from the nvidia-nvjpeg2k-cu13 wheel in .venv (scripts/install-deps.sh installs it)
# into .nvjpeg2k/ (ignored, about 6 MB), which the device command carries; cmake/nvjpeg2k.cmake finds
# the header there and bench/device/prepare.sh points TILESTREAM_NVJPEG2K_LIBRARY at the library.
set -euo pipefail
cd "$(dirname "$0")/../.."
wheel=$(ls -d .venv/lib/python3*/site-packages/nvidia/nvjpeg2k 2>/dev/null | head -n1)
if [ -z "$wheel" ]; then
  echo "fetch-nvjpeg2k.sh: no nvidia-nvjpeg2k-cu13 in .venv (run scripts/install-deps.sh)" >&2
  exit 2
fi
rm -rf .nvjpeg2k
mkdir -p .nvjpeg2k/include .nvjpeg2k/lib
cp "$wheel"/include/*.h .nvjpeg2k/include/
cp "$wheel/lib/libnvjpeg2k.so.0" .nvjpeg2k/lib/
du -sh .nvjpeg2k
