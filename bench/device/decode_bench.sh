#!/usr/bin/env bash
# On the GPU machine, in one device command: issue 14's decode benchmark (bench/decode.py): level 0 to
# the GPU, random 256x256 patch batches, slide -> sobel -> Zarr (zstd) and the OME-Zarr v3 conversion,
# tilestream (nvJPEG and its CPU-decode path) against cuCIM, tifffile + imagecodecs and nvJPEG's
# ceiling. Installs the wheels carried in .whl-patches/ into /tmp/site-patches, builds tilestream's
# command line, Python extension and, where the build defines it, tilestream_nvjpeg_ceiling in one
# CMake build (build/patches-gpu, shared with patches_bench.sh: Release, sm_90, configured once, then
# TILESTREAM_BENCH=ON), writes the synthetic seed-size JPEG slides once into WORK (19920 x 26420,
# `tilestream synth`: tiles 240, 256 and 512 at quality 75 and 90, and the issue's baseline, tiles 256
# at quality 80), and runs bench/decode.py on them and on the real SVS
# (.testslides/aperio/CMU-1-Small-Region.svs) into $OUT: decode.jsonl, decode.md, decode_bench.log.
#   bench/device/fetch-patch-wheels.sh            (here: .whl-patches/ and .testslides/)
#   bench/device/fetch-nvcomp.sh; bench/device/decode-wheels.sh   (here: .nvcomp/ and .whl-decode/)
#   DECODE_BENCH_WHEELS=.whl-decode bench/device/decode_bench.sh [--quick] [--slides t256-q80,...]
#       [-- ARGUMENTS FOR bench/decode.py]         (there; carry .whl-decode .nvcomp: .whl-patches and
#                                                  .nvcomp together exceed the 64 MiB carry; the svs
#                                                  slide needs .testslides, in a command without .nvcomp)
# j2k (issue 15's JPEG 2000 benchmark, only when named): the seed size as an Aperio SVS of YCbCr JPEG 2000
# tiles (33003, `synth --compression aperio-j2k`), 240 tiles, lossy at --quality 60, which OpenSlide and
# cuCIM read too; e.g. --slides j2k -- --sections level --readers tilestream,cucim,openslide.
# Slides: t240-q75 t240-q90 t256-q75 t256-q90 t512-q75 t512-q90 t256-q80 (the headline: the acceptance
# lines are about it) and svs; default all, in that order of priority: t256-q80, svs, then the others.
# --quick: t256-q80 and svs only, 2 timed runs per case. The whole command stays within
# DECODE_BENCH_BUDGET_S (default 540) seconds from this script's start: cases that no longer fit
# become rows saying so (a fresh machine spends part of it on the build and the slides; a second
# command on the same warm machine finds both).
# Environment: OUT, WORK (default /tmp/tilestream-bench), BUILD_DIR (build/patches-gpu), JOBS (nproc),
# DECODE_BENCH_BUDGET_S, TILESTREAM_COMMIT (recorded when the tree has no .git), TILESTREAM_NVJPEG_BACKEND,
# TILESTREAM_JPEG_LANES, TILESTREAM_JPEG_BATCH (recorded in the run); for tests of this script on a
# machine without a GPU: DECODE_BENCH_BIN and DECODE_BENCH_PYTHONPATH (a built command line and a
# folder holding the tilestream package: no build, no bench/device/prepare.sh), DECODE_BENCH_CEILING
# (a ceiling binary), DECODE_BENCH_SLIDE_SIZE (instead of 19920x26420), DECODE_BENCH_WHEELS (instead of
# .whl-patches), DECODE_BENCH_SITE (instead of /tmp/site-patches) and PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

all_slides="t256-q80,svs,t240-q75,t240-q90,t256-q75,t256-q90,t512-q75,t512-q90"
quick=0
chosen=""
extra=()
usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --slides) chosen=${2:?--slides takes a comma-separated list}; shift 2 ;;
    --slides=*) chosen=${1#--slides=}; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "decode_bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$chosen" ]; then
  chosen=$all_slides
  [ "$quick" = 1 ] && chosen="t256-q80,svs"
fi
IFS=, read -r -a slide_names <<<"$chosen"
for name in "${slide_names[@]}"; do
  case ",$all_slides,j2k," in
    *",$name,"*) ;;
    *) echo "decode_bench.sh: --slides takes ${all_slides//,/ } j2k; not '$name'" >&2; exit 2 ;;
  esac
done

export PATH="/usr/local/cuda/bin:$PATH"
export CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
build=${BUILD_DIR:-build/patches-gpu}
jobs=${JOBS:-$(nproc)}
budget=${DECODE_BENCH_BUDGET_S:-540}
work=${WORK:-/tmp/tilestream-bench}
out=${OUT:-$work/out}
mkdir -p "$work" "$out"
log="$out/decode_bench.log"
bin=${DECODE_BENCH_BIN:-$build/tilestream}
ceiling=${DECODE_BENCH_CEILING:-$build/bench/tilestream_nvjpeg_ceiling}
python=${PYTHON:-python3}
# shellcheck disable=SC2034  # (install_wheels reads it)
site=${DECODE_BENCH_SITE:-/tmp/site-patches}
wheel_dir=${DECODE_BENCH_WHEELS:-.whl-patches}
slide_size=${DECODE_BENCH_SLIDE_SIZE:-19920x26420}

me=decode_bench.sh  # (for bench_common.sh's messages)
cmake_extra=()
# shellcheck source=bench/device/bench_common.sh
source bench/device/bench_common.sh  # build_tilestream, install_wheels

# tilestream's command line and extension in one build, and the nvJPEG ceiling where the tree has it.
build_all() {
  export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
  cmake_extra+=(-DTILESTREAM_PYTHON=ON "-DPython_EXECUTABLE=$(command -v "$python")")
  build_tilestream
  cmake --build "$build" -j "$jobs" --target _tilestream
  if [ -f bench/CMakeLists.txt ] && grep -q tilestream_nvjpeg_ceiling bench/CMakeLists.txt; then
    if ! grep -q '^TILESTREAM_BENCH:BOOL=ON' "$build/CMakeCache.txt"; then
      cmake -DTILESTREAM_BENCH=ON "$build" >/dev/null  # (build_tilestream configures with it off)
    fi
    if cmake --build "$build" --target help 2>/dev/null | grep -q tilestream_nvjpeg_ceiling; then
      cmake --build "$build" -j "$jobs" --target tilestream_nvjpeg_ceiling ||
        echo "$me: tilestream_nvjpeg_ceiling did not build: its rows will say so" >&2
    else
      echo "== the build defines no tilestream_nvjpeg_ceiling (no CUDA?): its rows will say so"
    fi
  else
    echo "== this tree has no tilestream_nvjpeg_ceiling target: its rows will say so"
  fi
}

# python/tilestream with the extension beside it, as the wheel would install it.
assemble_package() {
  local pkg=$work/decode-pkg
  rm -rf "$pkg"
  mkdir -p "$pkg/tilestream"
  cp python/tilestream/*.py python/tilestream/py.typed "$pkg/tilestream/"
  cp "$build"/python/_tilestream*.so "$pkg/tilestream/"
  package_path=$pkg
}

# One synthetic slide, written once per machine (the baseline's name is patches_bench.sh's, so either
# script finds the other's); a partial file never takes the final name.
slide_path() {  # NAME (tTILE-qQUALITY, or j2k)
  if [ "$1" = j2k ]; then echo "$work/seed-size-aperio-j2k-q60-t240-${slide_size}.svs"; return; fi
  local tile=${1%-q*} quality=${1#*-q}
  echo "$work/seed-size-jpeg-q${quality}-t${tile#t}-${slide_size}.tif"
}
write_slide() {  # NAME
  local path tile=${1%-q*} quality=${1#*-q} compression=jpeg
  [ "$1" = j2k ] && tile=t240 quality=60 compression=aperio-j2k
  path=$(slide_path "$1")
  if [ -s "$path" ]; then
    echo "== slide $1: $(basename "$path") exists ($(stat -c %s "$path") bytes)"
    return 0
  fi
  rm -f "$work/partial-decode.tif"
  local t0=$SECONDS
  "$bin" synth "$work/partial-decode.tif" --size "$slide_size" --tile "${tile#t}" --compression "$compression" \
    --quality "$quality"
  mv "$work/partial-decode.tif" "$path"
  echo "== slide $1 written in $((SECONDS - t0)) s: $(stat -c %s "$path") bytes"
}

main() {
  echo "== $(date -u +%FT%TZ) decode_bench.sh$([ "$quick" = 1 ] && echo ' --quick') --slides $chosen${extra[*]:+ -- ${extra[*]}}, budget ${budget} s"
  if [ -z "${DECODE_BENCH_BIN:-}" ]; then  # (a test run elsewhere leaves that machine alone)
    # shellcheck source=bench/device/prepare.sh
    source bench/device/prepare.sh  # TILESTREAM_TESTDATA=.testslides when carried, PATH
  fi
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "(nvidia-smi failed)"
  echo "== $(nproc) cores; $(free -g | awk '/^Mem/ {print $2 " GiB memory"}')"
  echo "== WORK $work on $(findmnt -no SOURCE,FSTYPE -T "$work" 2>/dev/null || echo '?'), $(df -h --output=avail "$work" | tail -n1 | tr -d ' ') free"
  install_wheels "$wheel_dir"
  if [ -n "${DECODE_BENCH_BIN:-}" ]; then
    echo "== DECODE_BENCH_BIN=$bin, DECODE_BENCH_PYTHONPATH=${DECODE_BENCH_PYTHONPATH:-}: no build"
    package_path=${DECODE_BENCH_PYTHONPATH:?DECODE_BENCH_PYTHONPATH names the tilestream package with DECODE_BENCH_BIN}
  else
    echo "== build ($build): tilestream, _tilestream, tilestream_nvjpeg_ceiling"
    build_all
    assemble_package
  fi
  export PYTHONPATH="$package_path${PYTHONPATH:+:$PYTHONPATH}"
  echo "== $(( $(date +%s) - started )) s spent before the slides"
  local args=() name svs="${TILESTREAM_TESTDATA:-../shared/testdata}/aperio/CMU-1-Small-Region.svs"
  for name in "${slide_names[@]}"; do
    if [ "$name" = svs ]; then
      if [ -s "$svs" ]; then
        args+=(--slide "svs=$svs")
      else
        echo "== no $svs (carry .testslides: bench/device/fetch-patch-wheels.sh): the SVS rows are left out"
      fi
      continue
    fi
    write_slide "$name"
    args+=(--slide "$name=$(slide_path "$name")")
  done
  if [ ${#args[@]} -eq 0 ]; then echo "$me: no slide to read" >&2; return 2; fi
  case ",$chosen," in *",t256-q80,"*) args+=(--headline t256-q80) ;; esac
  args+=(--bin "$bin" --ceiling "$ceiling" --threads 16 --work "$work/decode-stores" --out-dir "$out"
         --deadline "$((started + budget))")
  [ "$quick" = 1 ] && args+=(--repeats 2)
  "$python" -c 'import sys, numpy; print("== Python", sys.version.split()[0], "numpy", numpy.__version__)'
  "$python" -c 'import cupy; print("== cupy", cupy.__version__)' 2>&1 | tail -n1 || true
  env | grep -E '^TILESTREAM_(NVJPEG_BACKEND|JPEG_LANES|JPEG_BATCH|DECODE)=' | sed 's/^/== /' || true
  echo "== $(( $(date +%s) - started )) s spent before the driver"
  local status=0
  "$python" -u bench/decode.py "${args[@]}" ${extra[@]+"${extra[@]}"} || status=$?
  rm -rf "$work/decode-stores"
  ls -la "$out"
  echo "== done after $(( $(date +%s) - started )) s, status $status"
  return "$status"
}

set -o pipefail
main 2>&1 | tee "$log"
