#!/usr/bin/env bash
# Configures and builds one flavour of tilestream into build/<flavour>:
#   release   optimised, warnings as errors, CUDA when nvcc is found
#   sanitize  AddressSanitizer + UndefinedBehaviorSanitizer, no CUDA
#   fuzz      clang libFuzzer targets (with ASan + UBSan), no CUDA
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
  release)  args=(-DCMAKE_BUILD_TYPE=Release -DTILESTREAM_WERROR=ON) ;;
  sanitize) args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DTILESTREAM_SANITIZE=ON
                  -DTILESTREAM_CUDA=OFF -DTILESTREAM_WERROR=ON) ;;
  fuzz)     args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DCMAKE_C_COMPILER=clang
                  -DCMAKE_CXX_COMPILER=clang++ -DTILESTREAM_FUZZ=ON -DTILESTREAM_TESTS=OFF
                  -DTILESTREAM_CUDA=OFF) ;;
  tsan)     args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DTILESTREAM_TSAN=ON
                  -DTILESTREAM_CUDA=OFF -DTILESTREAM_WERROR=ON -DTILESTREAM_BENCH=OFF) ;;
  *) echo "usage: $0 [release|sanitize|fuzz|tsan]" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" -G Ninja "${args[@]}" >/dev/null
cmake --build "build/$flavour" -j "$jobs" ${targets[@]:+--target "${targets[@]}"}
