#!/usr/bin/env bash
# Runs the libFuzzer targets of build/sanitize (scripts/build.sh fuzz, another name for sanitize).
#   usage: scripts/run-fuzzers.sh [SECONDS] [TARGET...]
#     SECONDS  wall-clock seconds of fuzzing per target (default 60)
#     TARGET   any of: fuzz_slide fuzz_decoders fuzz_zarr_chunks fuzz_zarr_metadata (default: all)
#   environment:
#     FUZZ_JOBS=N      N parallel workers per target (libFuzzer -fork=N, which also keeps going after
#                      a crash so that one run collects every finding); CPU-seconds = SECONDS x N.
#                      Default 1 (a single process that stops at its first finding).
#     FUZZ_BUILD_DIR   default build/sanitize
#     FUZZ_CORPUS_DIR  the working corpus, one folder per target (default $FUZZ_BUILD_DIR/corpus); it
#                      grows across runs and is never committed
#   One CPU-hour per target on a 16-core machine:  FUZZ_JOBS=16 scripts/run-fuzzers.sh 225
#
# Per target: first the committed seeds (fuzz/corpus/<target>/) and kept findings
# (fuzz/regressions/<target>/) are replayed (-runs=0): a regression fails at once. Then it fuzzes
# from them plus the working corpus. Findings (crash, leak, timeout, out-of-memory or an allocation
# beyond -malloc_limit_mb) land in $FUZZ_BUILD_DIR/findings/<target>/; keep each one, after the fix,
# under fuzz/regressions/<target>/ (small files). At the end a table gives per target: wall and CPU
# seconds, workers, executions, executions per CPU-second, the working corpus before -> after,
# and the findings. Exits 1 when any target has a finding or a regression fails.
set -euo pipefail
cd "$(dirname "$0")/.."
all_targets=(fuzz_slide fuzz_decoders fuzz_zarr_chunks fuzz_zarr_metadata)
seconds=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
jobs=${FUZZ_JOBS:-1}
build=${FUZZ_BUILD_DIR:-build/sanitize}
corpus_root=${FUZZ_CORPUS_DIR:-$build/corpus}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "run-fuzzers: FUZZ_JOBS must be a positive integer" >&2; exit 2; }

# Largest input per target: the slide seeds are cut-down files of a few KiB (fuzz/make_seed_corpus.py).
max_len() {
  case "$1" in
    fuzz_slide) echo 65536 ;;
    fuzz_zarr_metadata) echo 16384 ;;
    *) echo 8192 ;;
  esac
}

for target in "${targets[@]}"; do
  if [[ ! " ${all_targets[*]} " =~ " $target " ]]; then
    echo "run-fuzzers: unknown target '$target' (known: ${all_targets[*]})" >&2
    exit 2
  fi
  if [[ ! -x "$build/fuzz/$target" ]]; then
    echo "run-fuzzers: $build/fuzz/$target not found (run scripts/build.sh fuzz first)" >&2
    exit 2
  fi
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
count_files() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }
failed=0
summary=()
for target in "${targets[@]}"; do
  binary="$build/fuzz/$target"
  seeds="fuzz/corpus/$target"
  regressions="fuzz/regressions/$target"
  work="$corpus_root/$target"
  findings="$build/findings/$target"
  log="$scratch/$target.log"
  mkdir -p "$work" "$findings" "$regressions"
  limits=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len="$(max_len "$target")")

  echo "=== $target: replaying $(count_files "$seeds") seeds and $(count_files "$regressions") kept findings"
  if ! "$binary" -runs=0 "${limits[@]}" "$regressions" "$seeds" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "run-fuzzers: $target fails on a committed input (above)" >&2
    failed=1
    summary+=("$(printf '%-20s %s' "$target" 'REPLAY FAILED')")
    continue
  fi

  echo "=== $target: ${seconds} s x ${jobs} worker(s)"
  before=$(count_files "$work")
  marker="$scratch/$target.start"
  touch "$marker"
  # -malloc_limit_mb: one allocation beyond it is a finding (a small file must not make us allocate
  # gigabytes); -timeout: one input taking longer is a finding (a hang). The working corpus is listed
  # first, so libFuzzer writes new inputs there, never into the committed seeds.
  mode=()
  if [[ $jobs -gt 1 ]]; then
    mode=(-fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  fi
  start=$(date +%s)
  status=0
  nice -n "${FUZZ_NICE:-0}" "$binary" "${mode[@]}" "${limits[@]}" -max_total_time="$seconds" \
    -print_final_stats=1 -artifact_prefix="$findings/" "$work" "$seeds" "$regressions" >"$log" 2>&1 || status=$?
  wall=$(($(date +%s) - start))
  after=$(count_files "$work")
  # Executions: the final stats of a single process, or the last "#N:" status line of fork mode.
  execs=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+$' || true)
  if [[ -z $execs ]]; then
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#' || true)
  fi
  execs=${execs:-0}
  cpu=$((wall * jobs))
  rate=$((cpu > 0 ? execs / cpu : 0))
  found=$(find "$findings" -maxdepth 1 -type f -newer "$marker" | wc -l)
  # Fork mode also counts the workers' out-of-memory inputs, timeouts and crashes.
  otc=$(grep -oE 'oom/timeout/crash: [0-9]+/[0-9]+/[0-9]+' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  summary+=("$(printf '%-20s %7d %8d %7d %12d %9d %8d -> %-8d %d %s' "$target" "$wall" "$cpu" "$jobs" "$execs" \
    "$rate" "$before" "$after" "$found" "${otc:+(oom/timeout/crash $otc)}")")
  if [[ $status -ne 0 || $found -gt 0 ]]; then
    tail -n 60 "$log" >&2
    echo "run-fuzzers: $target: $found finding(s) (exit status $status):" >&2
    find "$findings" -maxdepth 1 -type f -newer "$marker" -printf '  %p\n' >&2
    echo "  replay one with: $binary <file>   (fix, then keep it under $regressions/)" >&2
    failed=1
  fi
done

echo
printf '%-20s %7s %8s %7s %12s %9s %-20s %s\n' target wall_s cpu_s workers executions exec/cpu_s \
  'corpus before -> after' findings
printf '%s\n' "${summary[@]}"
exit "$failed"
