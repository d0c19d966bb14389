#!/usr/bin/env bash
# On the GPU machine, after bench/device/gpu_tests.sh built build/gpu: writes the seed-shaped slide
# and reads level 0 on the CPU path and to the GPU (16 threads, 3 runs each, page cache warm),
# printing the timing lines and checksums so both paths can be compared. Log: $OUT/read_check.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build/gpu}
cmake --build "$build" -j "$(nproc)" --target tilestream >/dev/null
bin="$build/tilestream"
work=${WORK:-/tmp/tilestream-read-check}
mkdir -p "$work"
log="${OUT:-$work}/read_check.log"
{
  echo "== $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name --format=csv,noheader)"
  "$bin" synth "$work/seed.tif" --seed-shape
  for run in 1 2 3; do "$bin" read "$work/seed.tif" --threads 16 -o "$work/cpu.npy"; done
  for run in 1 2 3; do "$bin" read "$work/seed.tif" --device cuda --threads 16; done
} 2>&1 | tee "$log"
