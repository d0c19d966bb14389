#!/usr/bin/env bash
# Every test: installs, builds (release, sanitizers, fuzzers), runs the C++ tests, the Python
# comparisons against tifffile and OpenSlide, the Python package's tests (its wheel installed in a
# fresh environment), the sanitizer run and a bounded fuzzing run.
# Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${FUZZ_SECONDS:-30}

step() { printf '\n=== %s (%s)\n' "$1" "$(date +%T)"; }

step "dependencies"
scripts/install-deps.sh

step "release build"
scripts/build.sh release
step "C++ tests (release)"
ctest --test-dir build/release --output-on-failure -j "$(nproc)" --label-exclude gpu

step "GPU tests (they skip, with a message, where no CUDA device is present)"
ctest --test-dir build/release --output-on-failure -j "$(nproc)" -L gpu --no-tests=ignore

step "Python comparisons against tifffile and OpenSlide"
# A file's tests run in one process (--dist loadfile: module fixtures are built once), files in parallel.
TILESTREAM_BIN=build/release/tilestream .venv/bin/python -m pytest -q -n "$(nproc)" --dist loadfile tests/python

step "Python package: the wheel built from the release build, installed in a fresh environment, its API tests"
scripts/python-package.sh

step "benchmark harness checks (its parsing, report and driver, on CPU stand-ins)"
.venv/bin/python -m pytest -q -n "$(nproc)" --dist loadfile bench/testing

step "sanitizer build (clang, ASan + UBSan; the fuzz targets are built in it too) and tests"
scripts/build.sh sanitize
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/sanitize --output-on-failure -j "$(nproc)" --label-exclude gpu

step "ThreadSanitizer build and the multithreaded tests"
scripts/build.sh tsan
# The C++ tests whose code runs on several threads (work queue, parallel loops, the conversion and
# process pipelines, chunk sinks, stores, range reads, threaded slide reads and writes, and the CLI
# runs they spawn, which use the TSan build's binary), batches of patches read ahead and the host
# buffers recycled between threads. scripts/tsan.supp lists third-party code only.
tsan_tests='(^|/)(WorkQueue|ParallelFor|Convert|ConvertCase|ConvertRealSlide|ProcessMode|ProcessSlide|TiledEqualsGlobal|ZarrChunkSink|ZarrChunkSinkOn|FileStore|MemoryStore|StreamingWrite|WriteFile|RangeRead|DirectRead|RegionsOfRealSlides|Slide|TiffWriter|WriteSyntheticSlide|SynthCommand|BlockSource|PatchStreamTest|HostImage)[./]'
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp" \
  ctest --test-dir build/tsan --output-on-failure -j "$(nproc)" --label-exclude gpu -R "$tsan_tests"

step "fuzzing (${fuzz_seconds} s per target, after replaying the seeds and kept findings)"
# The fuzz targets of the sanitizer build, two targets at a time on the two cores CI has.
scripts/run-fuzzers.sh "$fuzz_seconds" fuzz_slide fuzz_zarr_metadata >build/sanitize/fuzz-run-1.log 2>&1 & first=$!
fuzz_status=0
scripts/run-fuzzers.sh "$fuzz_seconds" fuzz_decoders fuzz_zarr_chunks || fuzz_status=1
wait "$first" || fuzz_status=1
cat build/sanitize/fuzz-run-1.log
[[ $fuzz_status -eq 0 ]]

step "all tests passed"
