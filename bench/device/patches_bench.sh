#!/usr/bin/env bash
# On the GPU machine, in one device command: issue 13's random patches per second (bench/patches.py),
# tilestream against openslide-python, tiffslide, tifffile + zarr and cuCIM, on the CPU and as torch
# tensors on the GPU. Installs the wheels carried in .whl-patches/ into /tmp/site-patches, builds
# tilestream's command line and Python extension in one CMake build (build/patches-gpu: Release, sm_90,
# the configure only when the folder has none; the system compiler, as bench/device/python_check.sh
# explains), puts the package together from python/tilestream and the extension, writes the seed-size
# JPEG slide once into WORK (19920 x 26420, 256 x 256 tiles, quality 80: `tilestream synth`), and runs
# bench/patches.py on it and on the real SVS (.testslides/aperio/CMU-1-Small-Region.svs) into $OUT:
# patches.jsonl, patches.md (the table for bench/results/patches_<date>.md) and patches_bench.log.
#   bench/device/fetch-patch-wheels.sh            (here: .whl-patches/ and .testslides/, about 41 MB)
#   bench/device/patches_bench.sh [--quick] [-- ARGUMENTS FOR bench/patches.py]   (there; carry
#                                                  .whl-patches .testslides)
# --quick: 256 x 256 patches only, 2 timed reads of 0.4 s per case. Cases that no longer fit
# PATCHES_BENCH_BUDGET_S (default 540) seconds from this script's start become rows saying so.
# cuCIM runs with its default plugin (cuslide); where the carried nvImageCodec is installed, a second
# pass runs its cuslide2 plugin (ENABLE_CUSLIDE2=1) in a process of its own.
# Environment: OUT, WORK (default /tmp/tilestream-bench), BUILD_DIR (build/patches-gpu), JOBS (nproc),
# PATCHES_BENCH_BUDGET_S, TILESTREAM_COMMIT (recorded when the tree has no .git); for tests of this
# script on a machine without a GPU: PATCHES_BENCH_BIN and PATCHES_BENCH_PYTHONPATH (a built command
# line and a folder holding the tilestream package: no build, no bench/device/prepare.sh),
# PATCHES_BENCH_SLIDE_SIZE (instead of 19920x26420), PATCHES_BENCH_WHEELS (instead of .whl-patches),
# PATCHES_BENCH_SITE (instead of /tmp/site-patches) and PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

quick=0
extra=()
usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "patches_bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

export PATH="/usr/local/cuda/bin:$PATH"
export CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
build=${BUILD_DIR:-build/patches-gpu}
jobs=${JOBS:-$(nproc)}
budget=${PATCHES_BENCH_BUDGET_S:-540}
work=${WORK:-/tmp/tilestream-bench}
out=${OUT:-$work/out}
mkdir -p "$work" "$out"
log="$out/patches_bench.log"
bin=${PATCHES_BENCH_BIN:-$build/tilestream}
python=${PYTHON:-python3}
site=${PATCHES_BENCH_SITE:-/tmp/site-patches}
wheel_dir=${PATCHES_BENCH_WHEELS:-.whl-patches}
slide_size=${PATCHES_BENCH_SLIDE_SIZE:-19920x26420}
slide="$work/seed-size-jpeg-q80-t256-${slide_size}.tif"

me=patches_bench.sh  # (for bench_common.sh's messages)
cmake_extra=()
# shellcheck source=bench/device/bench_common.sh
source bench/device/bench_common.sh  # build_tilestream, install_wheels

# tilestream's command line and extension in one build: the library is compiled once for both.
build_both() {
  export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
  cmake_extra+=(-DTILESTREAM_PYTHON=ON "-DPython_EXECUTABLE=$(command -v "$python")")
  build_tilestream
  cmake --build "$build" -j "$jobs" --target _tilestream
}

# python/tilestream with the extension beside it, as the wheel would install it.
assemble_package() {
  local pkg=$work/patches-pkg
  rm -rf "$pkg"
  mkdir -p "$pkg/tilestream"
  cp python/tilestream/*.py python/tilestream/py.typed "$pkg/tilestream/"
  cp "$build"/python/_tilestream*.so "$pkg/tilestream/"
  ldd "$pkg"/tilestream/_tilestream*.so | grep -E 'libstdc\+\+|libjpeg' || true
  package_path=$pkg
}

# The seed-size JPEG slide, written once per machine; a partial file never takes the final name.
write_jpeg_slide() {
  if [ -s "$slide" ]; then
    echo "== slide $slide exists ($(stat -c %s "$slide") bytes)"
    return 0
  fi
  rm -f "$work/partial-jpeg.tif"
  "$bin" synth "$work/partial-jpeg.tif" --size "$slide_size" --tile 256 --compression jpeg --quality 80
  mv "$work/partial-jpeg.tif" "$slide"
}

main() {
  echo "== $(date -u +%FT%TZ) patches_bench.sh$([ "$quick" = 1 ] && echo ' --quick')${extra[*]:+ -- ${extra[*]}}, budget ${budget} s"
  if [ -z "${PATCHES_BENCH_BIN:-}" ]; then  # (a test run elsewhere leaves that machine alone)
    # shellcheck source=bench/device/prepare.sh
    source bench/device/prepare.sh  # TILESTREAM_TESTDATA=.testslides when carried, PATH
  fi
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "(nvidia-smi failed)"
  echo "== $(nproc) cores; $(free -g | awk '/^Mem/ {print $2 " GiB memory"}')"
  # (the slide is read from the page cache, warm: WORK may be tmpfs)
  echo "== WORK $work on $(findmnt -no SOURCE,FSTYPE -T "$work" 2>/dev/null || echo '?')"
  install_wheels "$wheel_dir"
  if [ -n "${PATCHES_BENCH_BIN:-}" ]; then
    echo "== PATCHES_BENCH_BIN=$bin, PATCHES_BENCH_PYTHONPATH=${PATCHES_BENCH_PYTHONPATH:-}: no build"
    package_path=${PATCHES_BENCH_PYTHONPATH:?PATCHES_BENCH_PYTHONPATH names the tilestream package with PATCHES_BENCH_BIN}
  else
    echo "== build ($build): tilestream and _tilestream"
    build_both
    assemble_package
  fi
  export PYTHONPATH="$package_path${PYTHONPATH:+:$PYTHONPATH}"
  echo "== seed-size JPEG slide"
  write_jpeg_slide
  local svs="${TILESTREAM_TESTDATA:-../shared/testdata}/aperio/CMU-1-Small-Region.svs"
  local slides=()
  if [ -s "$svs" ]; then
    slides+=(--slide "svs=$svs")
  else
    echo "== no $svs (carry .testslides: bench/device/fetch-patch-wheels.sh): the SVS rows are left out"
  fi
  slides+=(--slide "synthetic-jpeg=$slide")
  local plugins=cuslide
  if [ -e "$site/nvidia/nvimgcodec/libnvimgcodec.so.0" ]; then
    plugins=cuslide,cuslide2  # cuslide2 dlopens libnvimgcodec.so.0 by name
    export LD_LIBRARY_PATH="$site/nvidia/nvimgcodec${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  local args=("${slides[@]}" --headline synthetic-jpeg --threads "1,$(nproc)" --devices "cpu,cuda"
              --cucim-plugins "$plugins" --out-dir "$out" --deadline "$((started + budget))")
  if [ "$quick" = 1 ]; then args+=(--sizes 256 --repeats 2 --seconds 0.4); fi
  "$python" -c 'import sys, numpy; print("== Python", sys.version.split()[0], "numpy", numpy.__version__)'
  "$python" -c 'import torch; print("== torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1 | tail -n1 || true
  echo "== $(( $(date +%s) - started )) s spent before the driver"
  local status=0
  "$python" -u bench/patches.py "${args[@]}" ${extra[@]+"${extra[@]}"} || status=$?
  ls -la "$out"
  echo "== done after $(( $(date +%s) - started )) s, status $status"
  return "$status"
}

set -o pipefail
main 2>&1 | tee "$log"
