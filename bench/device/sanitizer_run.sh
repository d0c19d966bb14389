#!/usr/bin/env bash
# On the GPU machine: runs the GPU test binary under compute-sanitizer, each tool over every GPU test,
# split into gtest shards that run at once on the one GPU (the sanitizers are slow and mostly host-bound):
# memcheck (with --leak-check full: device memory still allocated at exit is an error), racecheck
# (shared-memory hazards) and synccheck (barriers). Builds with bench/device/gpu_tests.sh first.
# Writes one log per shard under the build folder and a summary; with OUT set (the device tool), the
# summary and a tarball of the logs go there (it brings back at most 8 files).
# Exits non-zero when any shard reports an error, fails a test, or runs past its limit.
#   bench/device/sanitizer_run.sh     SANITIZER_SHARDS="memcheck:6 racecheck:5 synccheck:5"
#                                     SANITIZER_LIMIT_S=360 (per shard)  SANITIZER_FILTER (gtest filter)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build/gpu}
GPU_TESTS_BUILD_ONLY=1 bench/device/gpu_tests.sh || exit 2
source bench/device/prepare.sh
logs_dir="$build/sanitizer"
mkdir -p "$logs_dir"
binary="$build/tests/tilestream_gpu_tests"
limit=${SANITIZER_LIMIT_S:-360}
summary="$logs_dir/summary.txt"
echo "== $(date -u +%FT%TZ) $(compute-sanitizer --version | tail -n1)" | tee "$summary"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$summary"

pids=()
names=()
logs=()
for spec in ${SANITIZER_SHARDS:-memcheck:6 racecheck:5 synccheck:5}; do
  tool=${spec%%:*}
  shards=${spec##*:}
  extra=()
  [ "$tool" = memcheck ] && extra=(--leak-check full)
  for ((i = 0; i < shards; ++i)); do
    log="$logs_dir/${tool}_${i}.log"
    GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i timeout "$limit" \
      compute-sanitizer --tool "$tool" "${extra[@]}" --error-exitcode 99 --print-limit 100000 \
      "$binary" ${SANITIZER_FILTER:+--gtest_filter="$SANITIZER_FILTER"} >"$log" 2>&1 &
    pids+=($!)
    names+=("$tool shard $i/$shards")
    logs+=("$log")
  done
done

failed=0
for k in "${!pids[@]}"; do
  wait "${pids[$k]}"
  rc=$?
  log=${logs[$k]}
  tests=$(grep -Eo '^\[  PASSED  \] [0-9]+ tests?' "$log" | grep -Eo '[0-9]+' || echo 0)
  failing=$(grep -Ec '^\[  FAILED  \] [A-Za-z]' "$log" || true)
  skipped=$(grep -Eo '^\[  SKIPPED \] [0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
  verdict=$(grep -E '^========= (ERROR|LEAK|RACECHECK) SUMMARY' "$log" | tr '\n' ' ')
  case $rc in 0) status=ok ;; 124) status="TIMED OUT after ${limit} s" ;; 99) status="SANITIZER ERRORS" ;; *) status="exit $rc" ;; esac
  printf '%-24s %-22s passed %s, failed %s, skipped %s; %s\n' "${names[$k]}" "$status" "$tests" "$failing" \
    "$skipped" "${verdict:-no summary line}" | tee -a "$summary"
  [ "$rc" = 0 ] || failed=1
done
# Whose are the reports: ours, cuFile's own, or a test's deliberate error (sanitizer_triage.py).
echo "== triage" | tee -a "$summary"
python3 bench/device/sanitizer_triage.py "${logs[@]}" | tee -a "$summary"
triage=${PIPESTATUS[0]}
if [ -n "${OUT:-}" ]; then
  cp "$summary" "$OUT/sanitizer_summary.txt"
  tar -czf "$OUT/sanitizer_logs.tar.gz" -C "$build" sanitizer
fi
# Reports that are cuFile's own or deliberate do not fail the run; ours, a failed test or a timeout do.
[ "$triage" = 0 ] && ! grep -qE 'TIMED OUT|exit [0-9]|passed [0-9]+, failed [1-9]' "$summary" && failed=0
exit "$failed"
