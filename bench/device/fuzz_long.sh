#!/usr/bin/env bash
# On the GPU machine (16 cores, no clang): the long fuzzing run of the four libFuzzer targets, all at
# once, with fuzz binaries built elsewhere (scripts/build.sh fuzz) and carried in .device-fuzz/:
#   .device-fuzz/fuzz-bin.tar.xz   fuzz/fuzz_* of build/sanitize (tar -C build/sanitize), unpacked
#                                  here into build/fuzz
#   .device-fuzz/libjpeg.so.62     the libjpeg they link (the machine has libjpeg.so.8 only)
#   .device-fuzz/corpus.tar.xz     optional: a working corpus to start from (corpus/<target>/)
# and libblosc/libsnappy from .device-deps/ (../shared/device/fetch-debs.sh).
#   bench/device/fuzz_long.sh SECONDS [JOBS_PER_TARGET]     (default 4 workers per target)
# Each target runs scripts/run-fuzzers.sh SECONDS <target> with FUZZ_JOBS workers (-fork), so the
# four use 4 x JOBS cores. With OUT set: fuzz_table.txt (the run-fuzzers tables and logs' tails),
# fuzz_findings.tar.gz (the findings, if any) and fuzz_corpus.tar.xz (the grown working corpus, to
# go on from elsewhere). Exits non-zero when any target finds something or fails a replay.
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:?usage: fuzz_long.sh SECONDS [JOBS_PER_TARGET]}
jobs=${2:-4}
out=${OUT:-build/fuzz/out}
mkdir -p build/fuzz "$out"
tar xJf .device-fuzz/fuzz-bin.tar.xz -C build/fuzz
[ -f .device-fuzz/corpus.tar.xz ] && tar xJf .device-fuzz/corpus.tar.xz -C build/fuzz
export LD_LIBRARY_PATH="$PWD/.device-fuzz:$PWD/.device-deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
{
  echo "== $(date -u +%FT%TZ) $(hostname) $(nproc) cores; commit ${TILESTREAM_COMMIT:-unknown}"
  echo "== fuzz_long.sh $seconds s x $jobs workers per target, 4 targets at once"
} >"$out/fuzz_table.txt"
pids=()
targets=(fuzz_slide fuzz_decoders fuzz_zarr_chunks fuzz_zarr_metadata)
for target in "${targets[@]}"; do
  FUZZ_BUILD_DIR=build/fuzz FUZZ_JOBS=$jobs scripts/run-fuzzers.sh "$seconds" "$target" >"build/fuzz/$target.run.log" 2>&1 &
  pids+=($!)
done
failed=0
for k in "${!pids[@]}"; do
  wait "${pids[$k]}" || failed=1
  { echo; echo "== ${targets[$k]}"; tail -n 25 "build/fuzz/${targets[$k]}.run.log"; } >>"$out/fuzz_table.txt"
done
if find build/fuzz/findings -type f 2>/dev/null | grep -q .; then
  tar czf "$out/fuzz_findings.tar.gz" -C build/fuzz findings
fi
XZ_OPT=-T0 tar cJf "$out/fuzz_corpus.tar.xz" -C build/fuzz corpus
echo "== done $(date -u +%FT%TZ), status $failed" >>"$out/fuzz_table.txt"
exit "$failed"
