# device run L: patch batches under decode auto by threads and CPU share
export TILESTREAM_COMMIT=${TILESTREAM_COMMIT:-wip}
export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
export DECODE_BENCH_WHEELS=.whl-pat
pb() { # NAME READERS BUDGET ENV... [-- decode.py args]
  local name=$1 readers=$2 budget=$3; shift 3
  local envs=() extra=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  [ "${1:-}" = "--" ] && { shift; extra=("$@"); }
  env OUT=/tmp/db_$name DECODE_BENCH_BUDGET_S=$budget "${envs[@]}" \
    timeout $((budget + 20)) bash bench/device/decode_bench.sh --quick --slides t256-q80 -- --sections patches --readers $readers "${extra[@]}" > /dev/null 2>&1
  echo "== $name rc $? at $SECONDS s: ${envs[*]} ${extra[*]}" | tee -a $OUT/k.txt
  grep -E "^\| t256-q80 \| (tilestream PatchLoader|tilestream read_regions device=\"cuda\" decode=\"auto\"|cuCIM)" /tmp/db_$name/decode.md | cut -d'|' -f3,8,9 | tee -a $OUT/k.txt
  cp /tmp/db_$name/decode.jsonl $OUT/k_$name.jsonl 2>/dev/null
}
pb base tilestream,cucim 240 X=1
pb t12 tilestream 50 X=1 -- --threads 12
pb t20 tilestream 50 X=1 -- --threads 20
pb s03 tilestream 50 TILESTREAM_PATCH_CPU_SHARE=0.3
pb s04 tilestream 50 TILESTREAM_PATCH_CPU_SHARE=0.4
[ $SECONDS -lt 480 ] && pb s03t12 tilestream 50 TILESTREAM_PATCH_CPU_SHARE=0.3 -- --threads 12
[ $SECONDS -lt 530 ] && pb p04t12 tilestream 50 TILESTREAM_PATCH_SPLIT=patches TILESTREAM_PATCH_CPU_SHARE=0.4 -- --threads 12
echo "end at $SECONDS s"
