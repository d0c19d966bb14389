# run 1 (device command: bash dev2.sh --quick --slides t256-q80; carry .whl-decode .nvcomp dev2.sh)
export TILESTREAM_COMMIT=${TC:-8f4c51f+patches-wip}
export DECODE_BENCH_WHEELS=.whl-decode
export DECODE_BENCH_BUDGET_S=${BUDGET:-560}
bash bench/device/decode_bench.sh "$@"
cp /tmp/tilestream-bench/out/* $OUT/ 2>/dev/null || true
