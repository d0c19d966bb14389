#!/usr/bin/env bash
# On the GPU machine, after bench/device/gpu_tests.sh built build/gpu: a quick look at the device read
# and write paths on the seed-shaped slide (not the benchmark: bench/device/io_bench.sh is). Reads
# level 0 on the CPU path and to the GPU with every io mode and 1 and 16 threads (warm page cache,
# one reader per process, --repeat 3), then writes it to Zarr from the GPU (uint8 and float32,
# chunk 2048, posix and gds, with fsync). Log: $OUT/read_check.log.
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
  [ -f "$work/seed.tif" ] || "$bin" synth "$work/seed.tif" --seed-shape
  "$bin" read "$work/seed.tif" --threads 16 --repeat 3 --json -o "$work/cpu.npy"
  for io in posix direct gds auto; do
    for threads in 1 16; do
      "$bin" read "$work/seed.tif" --device cuda --io "$io" --threads "$threads" --repeat 3 --json || echo "FAILED: read $io $threads"
    done
  done
  for dtype in uint8 float32; do
    for io in posix gds; do
      "$bin" convert "$work/seed.tif" "$work/out.zarr" --device cuda --io "$io" --threads 16 --levels 0 \
        --codec none --chunk 2048 --dtype "$dtype" --fsync --overwrite --json || echo "FAILED: convert $dtype $io"
      rm -rf "$work/out.zarr"; sync
    done
  done
} 2>&1 | tee "$log"
