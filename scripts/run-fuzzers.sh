#!/usr/bin/env bash
# Runs each libFuzzer target of build/fuzz (scripts/build.sh fuzz) for SECONDS seconds, starting
# from its committed seed corpus in fuzz/corpus/<target>/. New inputs go to a scratch directory
# (listed first, so libFuzzer writes there), never into the committed corpus. Fails when a target
# finds a crash, a leak, a timeout or an out-of-memory input, and prints the reproducer's path;
# reproducers are kept under build/fuzz/findings/<target>/.
#   usage: scripts/run-fuzzers.sh [SECONDS]     (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build=${FUZZ_BUILD_DIR:-build/fuzz}
targets=(fuzz_slide fuzz_decoders)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
for target in "${targets[@]}"; do
  binary="$build/fuzz/$target"
  if [[ ! -x "$binary" ]]; then
    echo "run-fuzzers: $binary not found (run scripts/build.sh fuzz first)" >&2
    exit 2
  fi
  findings="$build/findings/$target"
  mkdir -p "$scratch/$target" "$findings"
  echo "=== $target: ${seconds} s from fuzz/corpus/$target"
  # -malloc_limit_mb: a single allocation beyond it is a finding (a small file must not make us
  # allocate gigabytes); -timeout: one input taking longer is a finding (a hang).
  if ! "$binary" "$scratch/$target" "fuzz/corpus/$target" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$findings/" 2>"$scratch/$target.log"; then
    tail -n 60 "$scratch/$target.log" >&2
    echo "run-fuzzers: $target FAILED; reproducer(s):" >&2
    find "$findings" -type f -newer "$scratch" -printf '  %p\n' >&2
    echo "  replay with: $binary <reproducer>" >&2
    failed=1
  else
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$scratch/$target.log" || true
  fi
done
exit "$failed"
