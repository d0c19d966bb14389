#!/usr/bin/env bash
# On the GPU machine: the issue 4 benchmark "storage to GPU and back". Installs the wheels carried in
# .whl/ (bench/device/fetch-wheels.sh: zarr-python 3, kvikio, libcufile) into /tmp/site, picks the
# libcufile that tilestream and kvikio use, builds tilestream (Release, sm_90; the configure only when
# the build folder has none), writes the seed-shaped slide once into WORK (local disk, never tmpfs),
# runs bench/gpu_io_bench.py (CSV files into $OUT and bench/results/) and then bench/io_report.py
# (io_<date>.md, io_read.png, io_write.png). Log: $OUT/io_bench.log.
#   bench/device/io_bench.sh [--phase read|write|all] [--runs 3] [--quick] [--dtypes float32,uint8]
#                            [--chunks 256,512,1024,2048] [--dry-run]
# One device command each (10 minutes at most; the full write matrix moves ~300 GB through fsync):
#   bench/device/io_bench.sh --phase read
#   bench/device/io_bench.sh --phase write --dtypes uint8
#   bench/device/io_bench.sh --phase write --dtypes float32 --chunks 256,512
#   bench/device/io_bench.sh --phase write --dtypes float32 --chunks 1024,2048
# then `python3 bench/io_report.py <every CSV> --out-dir DIR` merges them into one report.
# --quick: 1 run, chunks 512 and 2048 (a smoke test). --dry-run: no build, no GPU, nothing measured;
# prints the plan and writes CSV files whose rows say "dry run" (testable without a GPU). What no
# longer fits IO_BENCH_BUDGET_S (default 540) seconds from this script's start is skipped, as rows
# saying so, so a command never runs into the device's limit.
# Environment: OUT, WORK (default /tmp/tilestream-bench), BUILD_DIR (build/gpu), JOBS (nproc),
# IO_BENCH_BUDGET_S, TILESTREAM_COMMIT (recorded when the tree has no .git); for tests of this script
# on a machine without a GPU: IO_BENCH_BIN (a tilestream to use instead of building and of
# bench/device/prepare.sh), PYTHON, IO_BENCH_RESULTS (instead of bench/results) and IO_BENCH_SITE
# (instead of /tmp/site).
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

phase=all
runs=3
quick=0
dry=0
dtypes=""
chunks=""
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "io_bench.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --phase) need_value "$@"; phase=$2; shift 2 ;;
    --phase=*) phase=${1#*=}; shift ;;
    --runs) need_value "$@"; runs=$2; shift 2 ;;
    --runs=*) runs=${1#*=}; shift ;;
    --dtypes) need_value "$@"; dtypes=$2; shift 2 ;;
    --dtypes=*) dtypes=${1#*=}; shift ;;
    --chunks) need_value "$@"; chunks=$2; shift 2 ;;
    --chunks=*) chunks=${1#*=}; shift ;;
    --quick) quick=1; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "io_bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$phase" in read|write|all) ;; *) echo "io_bench.sh: --phase must be read, write or all, not '$phase'" >&2; exit 2 ;; esac
case "$runs" in ''|*[!0-9]*|0) echo "io_bench.sh: --runs must be a positive integer, not '$runs'" >&2; exit 2 ;; esac

export PATH="/usr/local/cuda/bin:$PATH"
export CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"  # where kvikio's loader looks for libcufile
build=${BUILD_DIR:-build/gpu}
jobs=${JOBS:-$(nproc)}
budget=${IO_BENCH_BUDGET_S:-540}
work=${WORK:-/tmp/tilestream-bench}
if [ "$dry" = 1 ] && [ -z "${OUT:-}" ]; then OUT=$(mktemp -d); fi
out=${OUT:-$work/out}
mkdir -p "$work" "$out"
log="$out/io_bench.log"
bin=${IO_BENCH_BIN:-$build/tilestream}
python=${PYTHON:-python3}
results=${IO_BENCH_RESULTS:-bench/results}
site=${IO_BENCH_SITE:-/tmp/site}

driver_args=(--phase "$phase" --runs "$runs" --bin "$bin" --work "$work" --slide "$work/seed.tif"
             --out-dir "$out" --results "$results" --deadline "$((started + budget))")
[ "$quick" = 1 ] && driver_args+=(--quick)
[ "$dry" = 1 ] && driver_args+=(--dry-run)
[ -n "$dtypes" ] && driver_args+=(--dtypes "$dtypes")
[ -n "$chunks" ] && driver_args+=(--chunks "$chunks")

me=io_bench.sh
cmake_extra=()
# shellcheck source=bench/device/bench_common.sh
source bench/device/bench_common.sh  # work_on_disk, choose_cufile, build_tilestream, write_slide, install_wheels

main() {
  echo "== $(date -u +%FT%TZ) io_bench.sh --phase $phase --runs $runs$([ "$quick" = 1 ] && echo ' --quick')$([ "$dry" = 1 ] && echo ' --dry-run')${dtypes:+ --dtypes $dtypes}${chunks:+ --chunks $chunks}, budget ${budget} s"
  if [ "$dry" = 0 ]; then
    if [ -z "${IO_BENCH_BIN:-}" ]; then  # (a test run elsewhere leaves that machine alone)
      # shellcheck source=bench/device/prepare.sh
      source bench/device/prepare.sh  # the device's udev data for cuFile (root only), PATH
    fi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "(nvidia-smi failed)"
    work_on_disk || { work=/var/tmp/tilestream-bench; mkdir -p "$work"; echo "== using $work instead";
                      work_on_disk || return 2;
                      driver_args+=(--work "$work" --slide "$work/seed.tif"); }
    lsblk -dno NAME,MODEL,SIZE,ROTA 2>/dev/null || true
    install_wheels
    choose_cufile
    if [ -n "${IO_BENCH_BIN:-}" ]; then
      echo "== IO_BENCH_BIN=$bin: no build"
    else
      echo "== build ($build)"
      build_tilestream
    fi
    echo "== seed-shaped slide"
    write_slide
    echo "== $(( $(date +%s) - started )) s spent before the driver"
  fi
  local status=0
  "$python" -u bench/gpu_io_bench.py "${driver_args[@]}" || status=$?
  echo "== driver exit $status after $(( $(date +%s) - started )) s"
  shopt -s nullglob
  local csvs=("$out"/io_read.csv "$out"/io_write.csv "$out"/io_limits.csv)
  shopt -u nullglob
  local present=()
  for f in "${csvs[@]}"; do [ -f "$f" ] && present+=("$f"); done
  if [ ${#present[@]} -gt 0 ]; then
    "$python" bench/io_report.py "${present[@]}" --out-dir "$out" || status=$?
  else
    echo "io_bench.sh: no CSV files in $out: no report" >&2
    [ "$status" = 0 ] && status=1
  fi
  if [ "$dry" = 0 ]; then
    local today
    today=$(date -u +%F)
    local dated=()
    for kind in read write limits; do
      [ -f "$results/io_${kind}_${today}.csv" ] && dated+=("$results/io_${kind}_${today}.csv")
    done
    [ ${#dated[@]} -gt 0 ] && { "$python" bench/io_report.py "${dated[@]}" --out-dir "$results" --dated-charts || true; }
  fi
  ls -la "$out"
  echo "== done after $(( $(date +%s) - started )) s, status $status"
  return "$status"
}

set -o pipefail
main 2>&1 | tee "$log"
