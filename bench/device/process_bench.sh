#!/usr/bin/env bash
# On the GPU machine: use case 3 of issue 5, "the round trip of the benchmark we reproduce": level 0
# of the seed-shaped slide through each op into uncompressed Zarr v3, tilestream global and tiled with
# posix and gds reads against tifffile + cupy + cucim + zarr-python, beside the read-only and
# write-only times of the same command. Installs the wheels carried in .whl/ (bench/device/
# fetch-wheels.sh: zarr-python 3, cucim, ...) into /tmp/site, builds tilestream (Release, sm_90; the
# configure only when the build folder has none), writes the seed-shaped slide once into WORK (local
# disk, never tmpfs), runs bench/gpu_process_bench.py ($OUT/process.csv, and a dated copy in
# bench/results/) and bench/process_report.py (process_<date>.md, process_time.png). Log:
# $OUT/process_bench.log.
#   bench/device/process_bench.sh [--phase acceptance|ops|all] [--runs 3] [--quick] [--dry-run]
#       [--ops sobel,median,...] [--chunks 512,1024,2048,4096] [--io posix,gds] [--resume-from CSV]...
# The whole matrix does not fit one device command (10 minutes): the driver runs it in the issue's
# order of priority (acceptance rows, median and gaussian with their baselines, gds, the rest) and
# records what no longer fits as skipped rows; a second command goes on where the first ended:
#   bench/device/process_bench.sh --phase all
#   bench/device/process_bench.sh --phase all --resume-from bench/results/process_<date>_call1.csv
# (the first command's $OUT/process.csv, copied into the tree so that it travels with the second
# command; its report then merges both). --dry-run: no build, no GPU, nothing measured; prints the
# plan with a time estimate per step and writes a CSV whose rows say "dry run". What no longer fits
# PROCESS_BENCH_BUDGET_S (default 500) seconds from this script's start is skipped, as rows saying so.
# Environment: OUT, WORK (default /tmp/tilestream-bench), BUILD_DIR (build/gpu), JOBS (nproc),
# PROCESS_BENCH_BUDGET_S, TILESTREAM_COMMIT (recorded when the tree has no .git); for tests of this
# script on a machine without a GPU: PROCESS_BENCH_BIN (a tilestream to use instead of building and of
# bench/device/prepare.sh), PYTHON, PROCESS_BENCH_RESULTS (instead of bench/results) and
# PROCESS_BENCH_SITE (instead of /tmp/site).
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

phase=all
runs=3
quick=0
dry=0
ops=""
chunks=""
ios=""
resume=()
usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "process_bench.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --phase) need_value "$@"; phase=$2; shift 2 ;;
    --phase=*) phase=${1#*=}; shift ;;
    --runs) need_value "$@"; runs=$2; shift 2 ;;
    --runs=*) runs=${1#*=}; shift ;;
    --ops) need_value "$@"; ops=$2; shift 2 ;;
    --ops=*) ops=${1#*=}; shift ;;
    --chunks) need_value "$@"; chunks=$2; shift 2 ;;
    --chunks=*) chunks=${1#*=}; shift ;;
    --io) need_value "$@"; ios=$2; shift 2 ;;
    --io=*) ios=${1#*=}; shift ;;
    --resume-from) need_value "$@"; resume+=("$2"); shift 2 ;;
    --resume-from=*) resume+=("${1#*=}"); shift ;;
    --quick) quick=1; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "process_bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$phase" in acceptance|ops|all) ;; *) echo "process_bench.sh: --phase must be acceptance, ops or all, not '$phase'" >&2; exit 2 ;; esac
case "$runs" in ''|*[!0-9]*|0) echo "process_bench.sh: --runs must be a positive integer, not '$runs'" >&2; exit 2 ;; esac
for f in ${resume[@]+"${resume[@]}"}; do
  [ -f "$f" ] || { echo "process_bench.sh: --resume-from: no such CSV '$f'" >&2; exit 2; }
done

export PATH="/usr/local/cuda/bin:$PATH"
export CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
build=${BUILD_DIR:-build/gpu}
jobs=${JOBS:-$(nproc)}
budget=${PROCESS_BENCH_BUDGET_S:-500}
work=${WORK:-/tmp/tilestream-bench}
if [ "$dry" = 1 ] && [ -z "${OUT:-}" ]; then OUT=$(mktemp -d); fi
out=${OUT:-$work/out}
mkdir -p "$work" "$out"
log="$out/process_bench.log"
bin=${PROCESS_BENCH_BIN:-$build/tilestream}
python=${PYTHON:-python3}
results=${PROCESS_BENCH_RESULTS:-bench/results}
site=${PROCESS_BENCH_SITE:-/tmp/site}

driver_args=(--phase "$phase" --runs "$runs" --bin "$bin" --work "$work" --slide "$work/seed.tif"
             --out-dir "$out" --results "$results" --deadline "$((started + budget))")
[ "$quick" = 1 ] && driver_args+=(--quick)
[ "$dry" = 1 ] && driver_args+=(--dry-run)
[ -n "$ops" ] && driver_args+=(--ops "$ops")
[ -n "$chunks" ] && driver_args+=(--chunks "$chunks")
[ -n "$ios" ] && driver_args+=(--io "$ios")
for f in ${resume[@]+"${resume[@]}"}; do driver_args+=(--resume "$f"); done

me=process_bench.sh
cmake_extra=()
# shellcheck source=bench/device/bench_common.sh
source bench/device/bench_common.sh  # work_on_disk, choose_cufile, build_tilestream, write_slide, install_wheels

main() {
  echo "== $(date -u +%FT%TZ) process_bench.sh --phase $phase --runs $runs$([ "$quick" = 1 ] && echo ' --quick')$([ "$dry" = 1 ] && echo ' --dry-run')${ops:+ --ops $ops}${chunks:+ --chunks $chunks}${ios:+ --io $ios}${resume[*]:+ --resume-from ${resume[*]}}, budget ${budget} s"
  if [ "$dry" = 0 ]; then
    if [ -z "${PROCESS_BENCH_BIN:-}" ]; then  # (a test run elsewhere leaves that machine alone)
      # shellcheck source=bench/device/prepare.sh
      source bench/device/prepare.sh  # the device's udev data for cuFile (root only), PATH
    fi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "(nvidia-smi failed)"
    work_on_disk || { work=/var/tmp/tilestream-bench; mkdir -p "$work"; echo "== using $work instead";
                      work_on_disk || return 2;
                      driver_args+=(--work "$work" --slide "$work/seed.tif"); }
    free -g | head -n2 || true
    install_wheels
    choose_cufile
    if [ -n "${PROCESS_BENCH_BIN:-}" ]; then
      echo "== PROCESS_BENCH_BIN=$bin: no build"
    else
      echo "== build ($build)"
      build_tilestream
    fi
    echo "== seed-shaped slide"
    write_slide
    echo "== $(( $(date +%s) - started )) s spent before the driver"
  fi
  local status=0
  "$python" -u bench/gpu_process_bench.py "${driver_args[@]}" || status=$?
  echo "== driver exit $status after $(( $(date +%s) - started )) s"
  if [ -f "$out/process.csv" ]; then
    # The rows of the commands resumed from go into this command's report too.
    "$python" bench/process_report.py "$out/process.csv" ${resume[@]+"${resume[@]}"} --out-dir "$out" || status=$?
  else
    echo "process_bench.sh: no $out/process.csv: no report" >&2
    [ "$status" = 0 ] && status=1
  fi
  if [ "$dry" = 0 ]; then
    shopt -s nullglob
    local dated=("$results"/process_"$(date -u +%F)"_*.csv)
    shopt -u nullglob
    [ ${#dated[@]} -gt 0 ] && { "$python" bench/process_report.py "${dated[@]}" --out-dir "$results" --dated-charts || true; }
  fi
  ls -la "$out"
  echo "== done after $(( $(date +%s) - started )) s, status $status"
  return "$status"
}

set -o pipefail
main 2>&1 | tee "$log"
