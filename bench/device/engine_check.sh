#!/usr/bin/env bash
# On the GPU machine: issue 12's GPU acceptance figures for the one engine, in one command, after
# bench/device/gpu_tests.sh has built BUILD_DIR (default build/gpu):
#  1. the seed-shaped slide (`tilestream synth --seed-shape`, written once into WORK, read once to warm
#     the page cache) converted to OME-Zarr (zstd) on the CPU (16 threads) and with
#     `--device cuda --memory 1G` (tiled, pyramid levels built on the GPU): the two stores compared
#     file by file (cmp), and the device run's peak device memory (its pool's high-water mark);
#  2. the commands of use cases 1, 2 and 3 as bench/results of 2026-11-25/26 ran them: level 0 read to
#     the device (posix, 16 threads, warm, runs after a dropped warm-up), level 0 as float32 chunk 512
#     from device memory to uncompressed Zarr v3 (global mode: the level held on the device, then
#     write_seconds; with --fsync plus fsync_seconds), sobel chunk 2048 through process (tiled and
#     global, total_seconds).
# Every run's JSON goes into $OUT/engine_check.jsonl; the summary (medians) into $OUT/engine_check.md.
#   OUT=... WORK=... TILESTREAM_COMMIT=... bench/device/engine_check.sh [runs, default 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
out=${OUT:-/tmp/engine-check}
work=${WORK:-/tmp/tilestream-bench}
bin=${BUILD_DIR:-build/gpu}/tilestream
mkdir -p "$out" "$work"
jsonl=$out/engine_check.jsonl
: > "$jsonl"
log() { echo "== $(date -u +%FT%TZ) $*" | tee -a "$out/engine_check.log" >&2; }
# Runs a tilestream command with --json; appends {"name", "command", "json"} to the record.
record() {
  local name=$1; shift
  local json
  json=$("$bin" "$@" --json 2>>"$out/engine_check.log")
  python3 -c 'import json,sys; print(json.dumps({"name": sys.argv[1], "command": sys.argv[2:-1], "json": json.loads(sys.argv[-1])}))' \
    "$name" "$@" "$json" >> "$jsonl"
}

slide=$work/seed.tif
if [ ! -s "$slide" ]; then log "synth seed-shaped slide"; "$bin" synth "$slide" --seed-shape >/dev/null; fi
cat "$slide" > /dev/null
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt"
log "commit ${TILESTREAM_COMMIT:-unknown}"

log "1. convert --ome: CPU, then CUDA with --memory 1G"
rm -rf "$work/cpu.zarr" "$work/gpu.zarr"
record convert_ome_cpu convert "$slide" "$work/cpu.zarr" --ome --threads 16
record convert_ome_cuda convert "$slide" "$work/gpu.zarr" --ome --threads 16 --device cuda --io posix --memory 1G
(cd "$work/cpu.zarr" && find . -type f | sort) > "$out/cpu_files.txt"
(cd "$work/gpu.zarr" && find . -type f | sort) > "$out/gpu_files.txt"
if cmp -s "$out/cpu_files.txt" "$out/gpu_files.txt"; then
  differ=0
  while read -r f; do cmp -s "$work/cpu.zarr/$f" "$work/gpu.zarr/$f" || { echo "differs: $f"; differ=$((differ + 1)); }; done \
    < "$out/cpu_files.txt" > "$out/store_diff.txt"
  echo "{\"files\": $(wc -l < "$out/cpu_files.txt"), \"differing\": $differ}" > "$out/store_compare.json"
else
  echo "{\"files\": $(wc -l < "$out/cpu_files.txt"), \"gpu_files\": $(wc -l < "$out/gpu_files.txt"), \"differing\": \"key sets differ\"}" \
    > "$out/store_compare.json"
fi
cat "$out/store_compare.json"
rm -rf "$work/cpu.zarr" "$work/gpu.zarr"

log "2. use case 1: level 0 to the device"
record use_case_1 read "$slide" --level 0 --device cuda --io posix --threads 16 --repeat $((runs + 1))

log "3. use case 2: float32 chunk 512 from device memory, without and with --fsync"
for i in $(seq "$runs"); do
  for fsync in "" --fsync; do
    rm -rf "$work/uc2.zarr"; sync
    record "use_case_2${fsync:+_fsync}" convert "$slide" "$work/uc2.zarr" --device cuda --io posix --threads 16 \
      --levels 0 --codec none --dtype float32 --chunk 512 --zarr-version 3 --layout yxc --mode global --overwrite $fsync
  done
done
rm -rf "$work/uc2.zarr"

log "4. use case 3: sobel chunk 2048, tiled and global"
for i in $(seq "$runs"); do
  for mode in tiled global; do
    rm -rf "$work/process.zarr"; sync
    record "use_case_3_$mode" process "$slide" "$work/process.zarr" --op sobel --mode "$mode" --chunk 2048 \
      --device cuda --io posix --threads 16 --zarr-version 3 --codec none --overwrite
  done
done
rm -rf "$work/process.zarr"

python3 - "$jsonl" "$out/engine_check.md" "${TILESTREAM_COMMIT:-unknown}" "$(cat "$out/device.txt")" "$out/store_compare.json" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["name"], []).append(r)
def med(values):
    return statistics.median(values) if values else float("nan")
lines = [f"- commit {sys.argv[3]}, device {sys.argv[4]}", f"- store comparison: {open(sys.argv[5]).read().strip()}"]
for name in ("convert_ome_cpu", "convert_ome_cuda"):
    j = by[name][0]["json"]
    lines.append(f"- {name}: total {j['total_seconds']:.3f} s, peak device {j['peak_device_mb']:.0f} MB, "
                 f"{j['blocks']} blocks, arrays {j['arrays']}, io {j['io_detail'][:160]}")
uc1 = by["use_case_1"][0]["json"]["runs_seconds"][1:]
lines.append(f"- use case 1 (read level 0 to device, posix 16t warm): median {med(uc1):.4f} s of {uc1}")
for name in ("use_case_2", "use_case_2_fsync"):
    values = [r["json"]["write_seconds"] + (r["json"]["fsync_seconds"] if "fsync" in name else 0) for r in by[name]]
    lines.append(f"- {name} (float32 c512, write{' + fsync' if 'fsync' in name else ''} seconds): "
                 f"median {med(values):.3f} s of {[round(v, 3) for v in values]}")
for name in ("use_case_3_tiled", "use_case_3_global"):
    values = [r["json"]["total_seconds"] for r in by[name]]
    peaks = [r["json"]["peak_device_mb"] for r in by[name]]
    lines.append(f"- {name} (sobel c2048, total seconds): median {med(values):.3f} s of {[round(v, 3) for v in values]}, "
                 f"peak device {max(peaks):.0f} MB")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
