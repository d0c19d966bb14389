#!/usr/bin/env bash
# On the GPU machine: configures a Release build with CUDA (sm_90), builds the GPU and CPU test binaries
# and runs the GPU tests (ctest label gpu). The log goes to $OUT/gpu_tests.log when OUT is set, else
# to the build folder. Ninja when installed, else make. Exits with ctest's status.
#   bench/device/gpu_tests.sh            (BUILD_DIR=build/gpu JOBS=$(nproc) by default)
# GPU_TESTS_REGEX runs only the GPU tests whose names match (ctest -R), GPU_TESTS_JOBS of them at once
# (default 1: each test has the device to itself). GPU_TESTS_BUILD_ONLY=1 builds and runs nothing
# (bench/device/sanitizer_run.sh runs the binary itself).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/device/prepare.sh
build=${BUILD_DIR:-build/gpu}
jobs=${JOBS:-$(nproc)}
mkdir -p "$build"
log="${OUT:+$OUT/gpu_tests.log}"
log="${log:-$build/gpu_tests.log}"

if ! command -v cmake >/dev/null; then
  echo "gpu_tests.sh: cmake is not installed on this machine" | tee "$log" >&2
  exit 2
fi
if command -v ninja >/dev/null; then generator=Ninja; else generator="Unix Makefiles"; fi

run() {
  echo "== $(date -u +%FT%TZ) $(hostname)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "(nvidia-smi failed)"
  echo "== cmake $(cmake --version | head -n1), generator $generator, nvcc $(nvcc --version | tail -n1)"
  cmake -S . -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DTILESTREAM_CUDA=ON -DTILESTREAM_TESTS=ON \
    -DTILESTREAM_BENCH=OFF
  cmake --build "$build" -j "$jobs" --target tilestream_gpu_tests tilestream_tests tilestream
  [ "${GPU_TESTS_BUILD_ONLY:-0}" = 1 ] && return 0
  echo "== GPU tests"
  (cd "$build" && ctest -L gpu --output-on-failure -j "${GPU_TESTS_JOBS:-1}" ${GPU_TESTS_REGEX:+-R "$GPU_TESTS_REGEX"})
}

run 2>&1 | tee "$log"
