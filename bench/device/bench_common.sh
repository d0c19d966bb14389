# shellcheck shell=bash disable=SC2154  # (me, work, site, build, jobs, bin, python: the sourcing script sets them)
# Sourced by the benchmark entry scripts of the GPU machine (io_bench.sh: issue 4, process_bench.sh:
# issue 5): what both do before their driver runs. Each function reads the caller's settings from
# these variables: me (the script's name, for messages), work (scratch folder on a local disk), site
# (where the carried wheels go), build (the CMake build folder), jobs, bin (the tilestream to run),
# python, and the array cmake_extra (extra configure flags, appended to by choose_cufile).
# Exports IO_BENCH_CUFILE (which libcufile was chosen), recorded by both drivers.

# The page cache and O_DIRECT figures mean something only on a disk: refuses tmpfs / ramfs.
work_on_disk() {
  local fstype
  fstype=$(findmnt -no FSTYPE -T "$work" 2>/dev/null || echo unknown)
  case "$fstype" in
    tmpfs|ramfs|devtmpfs)
      echo "$me: WORK=$work is on $fstype, not a disk" >&2
      return 1 ;;
  esac
  echo "== WORK $work on $(findmnt -no SOURCE,FSTYPE -T "$work" 2>/dev/null || echo '?'), $(df -h --output=avail "$work" | tail -n1 | tr -d ' ') free"
}

# libcufile for tilestream's gds mode (which dlopens it, or the file TILESTREAM_CUFILE_LIBRARY names)
# and for kvikio (whose loader looks on the loader path and under CUDA_HOME): the system's where it
# has one, else the carried nvidia-cufile wheel's. Also cufile.h for a fresh configure when the
# toolkit lacks it (otherwise tilestream builds its cuFile stub). The choice goes into the results.
choose_cufile() {
  local found="" dir
  if ldconfig -p 2>/dev/null | grep -q 'libcufile\.so\.0 '; then
    IO_BENCH_CUFILE="system (ldconfig: $(ldconfig -p | grep -m1 'libcufile\.so\.0 ' | sed 's/.*=> //'))"
  else
    for dir in "$CUDA_HOME/lib64" "$CUDA_HOME/targets/x86_64-linux/lib" "$site/nvidia/cu13/lib"; do
      if [ -e "$dir/libcufile.so.0" ]; then found="$dir/libcufile.so.0"; break; fi
    done
    if [ -n "$found" ]; then
      export TILESTREAM_CUFILE_LIBRARY="$found"
      export LD_LIBRARY_PATH="${found%/*}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      IO_BENCH_CUFILE="$found (TILESTREAM_CUFILE_LIBRARY, LD_LIBRARY_PATH)"
      case "$found" in "$site"/*) IO_BENCH_CUFILE="carried wheel nvidia-cufile: $IO_BENCH_CUFILE" ;; esac
    else
      IO_BENCH_CUFILE="none found: gds rows will record the error, kvikio may not import"
    fi
  fi
  export IO_BENCH_CUFILE
  echo "== libcufile: $IO_BENCH_CUFILE"
  if [ ! -e "$CUDA_HOME/include/cufile.h" ] && [ ! -e "$CUDA_HOME/targets/x86_64-linux/include/cufile.h" ] &&
     [ -e "$site/nvidia/cu13/include/cufile.h" ]; then
    cmake_extra+=("-DTILESTREAM_CUFILE_INCLUDE_DIR=$site/nvidia/cu13/include")
    echo "== cufile.h: the toolkit has none; a fresh configure takes the carried wheel's"
  fi
}

# Release, sm_90; the configure only when the build folder has none (a warm machine keeps it).
build_tilestream() {
  if ! command -v cmake >/dev/null; then echo "$me: cmake is not installed" >&2; return 2; fi
  if [ ! -f "$build/CMakeCache.txt" ]; then
    local generator="Unix Makefiles"
    command -v ninja >/dev/null && generator=Ninja
    cmake -S . -B "$build" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DTILESTREAM_CUDA=ON -DTILESTREAM_TESTS=OFF \
      -DTILESTREAM_BENCH=OFF "${cmake_extra[@]}"
  else
    echo "== $build configured already: configure skipped"
  fi
  grep -E '^TILESTREAM_CUFILE_INCLUDE_DIR' "$build/CMakeCache.txt" || true
  cmake --build "$build" -j "$jobs" --target tilestream
}

# The seed-shaped slide, written once per machine; a partial file (interrupted command) never takes
# the final name.
write_slide() {
  if [ -s "$work/seed.tif" ]; then
    echo "== slide $work/seed.tif exists ($(stat -c %s "$work/seed.tif") bytes)"
    return 0
  fi
  rm -f "$work/seed.partial.tif"
  "$bin" synth "$work/seed.partial.tif" --seed-shape
  sync
  mv "$work/seed.partial.tif" "$work/seed.tif"
  echo "== slide written: $(stat -c %s "$work/seed.tif") bytes"
}

# Every wheel carried in .whl/ (bench/device/fetch-wheels.sh), or in the folder given as the first
# argument (.whl-patches/: bench/device/fetch-patch-wheels.sh), without dependency resolution, into
# $site, which goes first on PYTHONPATH. When the install of all of them at once fails (pip refuses
# the whole set for one wheel it cannot take, say a cp312 wheel on another Python), they are
# installed one at a time and those that fail are named; the run goes on without them (the rows that
# need a missing package record why). $site/.carried-wheels lists the set installed (names and
# sizes): a later command on the same machine with the same set keeps it.
install_wheels() {
  local folder=${1:-.whl}
  shopt -s nullglob
  local wheels=("$folder"/*.whl)
  shopt -u nullglob
  if [ ${#wheels[@]} -eq 0 ]; then
    echo "== no wheels in $folder/ (the rows that need the carried packages will record why they are missing)"
    return 0
  fi
  local stamp
  stamp=$(stat -c '%n %s' "${wheels[@]}")
  if [ -f "$site/.carried-wheels" ] && [ "$(grep -v '^# ' "$site/.carried-wheels")" = "$stamp" ]; then
    echo "== the ${#wheels[@]} carried wheels are installed in $site already $(grep '^# ' "$site/.carried-wheels" || true)"
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
    return 0
  fi
  local pip=("$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site")
  echo "== installing ${#wheels[@]} carried wheels into $site: ${wheels[*]##*/}"
  rm -f "$site/.carried-wheels"
  local wheel failed=()
  if ! "${pip[@]}" "${wheels[@]}"; then
    echo "$me: pip install of the carried wheels failed; installing them one at a time" >&2
    for wheel in "${wheels[@]}"; do
      "${pip[@]}" "$wheel" 2>/dev/null || failed+=("${wheel##*/}")
    done
    [ ${#failed[@]} -gt 0 ] && echo "$me: not installed (going on without them): ${failed[*]}" >&2
    [ ${#failed[@]} -eq ${#wheels[@]} ] && return 0
  fi
  mkdir -p "$site"
  { printf '%s\n' "$stamp"; [ ${#failed[@]} -eq 0 ] || echo "# (not installed: ${failed[*]})"; } >"$site/.carried-wheels"
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
}
