#!/usr/bin/env bash
# On the GPU machine: the same commands with two tilestream binaries, interleaved run by run, so that
# a difference between commits is told from a difference between machines or moments. Use cases 2
# (float32 chunk 512 from device memory, write_seconds, no fsync) and 3 (sobel chunk 2048, process
# total_seconds, tiled and global) of bench/results 2026-11-25/26 on the seed-shaped slide in WORK.
#   bench/device/ab_runs.sh OLD_BIN NEW_BIN [runs]   -> one JSON line per run on stdout
# OLD_BIN predates convert --mode (its device convert held the level whole); NEW_BIN gets --mode global.
set -euo pipefail
old=$1 new=$2 runs=${3:-3}
work=${WORK:-/tmp/tilestream-bench}
slide=$work/seed.tif
mkdir -p "$work"
[ -s "$slide" ] || "$new" synth "$slide" --seed-shape >/dev/null
cat "$slide" > /dev/null
emit() {  # name binary field json
  python3 -c 'import json,sys; j=json.loads(sys.argv[4]); print(json.dumps({"case": sys.argv[1], "bin": sys.argv[2], "seconds": j[sys.argv[3]]}))' "$@"
}
for i in $(seq "$runs"); do
  order=(old new); [ $((i % 2)) = 0 ] && order=(new old)  # each binary first in every other round
  for which in "${order[@]}"; do
    bin=${!which}
    mode=(); [ "$which" = new ] && mode=(--mode global)
    rm -rf "$work/ab.zarr"; sync
    emit use_case_2 "$which" write_seconds "$("$bin" convert "$slide" "$work/ab.zarr" --device cuda --io posix --threads 16 \
      --levels 0 --codec none --dtype float32 --chunk 512 --zarr-version 3 --layout yxc "${mode[@]}" --overwrite --json 2>/dev/null)"
    for pmode in tiled global; do
      rm -rf "$work/ab.zarr"; sync
      emit "use_case_3_$pmode" "$which" total_seconds "$("$bin" process "$slide" "$work/ab.zarr" --op sobel --mode "$pmode" \
        --chunk 2048 --device cuda --io posix --threads 16 --zarr-version 3 --codec none --overwrite --json 2>/dev/null)"
    done
  done
done
rm -rf "$work/ab.zarr"
