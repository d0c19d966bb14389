#!/usr/bin/env bash
# Configures and builds one flavour of tilestream into build/<flavour>:
#   release   optimised, warnings as errors, CUDA when nvcc is found; the Python extension too where
#             .venv has nanobind (scripts/python-package.sh packs it into the wheel)
#   sanitize  clang, AddressSanitizer + UndefinedBehaviorSanitizer, no CUDA: the tests and the libFuzzer
#             targets in one tree, so that they share one instrumented library (the library also
#             carries libFuzzer's coverage hooks, which the tests ignore)
#   fuzz      another name for sanitize (build/sanitize); scripts/run-fuzzers.sh runs its fuzz targets
#   tsan      ThreadSanitizer (gcc, -O1 with debug info), no CUDA: scripts/test.sh runs the
#             multithreaded tests with it
# Further arguments name the targets to build (default: all), e.g. scripts/build.sh fuzz fuzz_slide.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
[[ $# -gt 0 ]] && shift
targets=("$@")
jobs=${JOBS:-$(nproc)}
case "$flavour" in
  release)  args=(-DCMAKE_BUILD_TYPE=Release -DTILESTREAM_WERROR=ON)
            if .venv/bin/python -c 'import nanobind' 2>/dev/null; then
              args+=(-DTILESTREAM_PYTHON=ON "-DPython_EXECUTABLE=$PWD/.venv/bin/python")
            fi ;;
  sanitize|fuzz)
            flavour=sanitize
            args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DCMAKE_C_COMPILER=clang
                  -DCMAKE_CXX_COMPILER=clang++ -DTILESTREAM_FUZZ=ON -DTILESTREAM_CUDA=OFF
                  -DTILESTREAM_WERROR=ON) ;;
  tsan)     args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DTILESTREAM_TSAN=ON
                  -DTILESTREAM_CUDA=OFF -DTILESTREAM_WERROR=ON -DTILESTREAM_BENCH=OFF) ;;
  *) echo "usage: $0 [release|sanitize|fuzz|tsan]" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" -G Ninja "${args[@]}" >/dev/null
cmake --build "build/$flavour" -j "$jobs" ${targets[@]:+--target "${targets[@]}"}
