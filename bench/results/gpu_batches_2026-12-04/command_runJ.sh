# device run J: GPU tests (patch split, even global batches, encode auto by level), patch split rates, global auto convert
export TILESTREAM_COMMIT=${TILESTREAM_COMMIT:-wip}
export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
GPU_TESTS_JOBS=4 GPU_TESTS_REGEX='DeviceEncodeRefusals' timeout 290 bash bench/device/gpu_tests.sh > /dev/null 2>&1; echo "gpu tests rc $? at $SECONDS s"
grep -E "tests passed|\*\*\*Failed|Failed  |Not Run|Total Test" $OUT/gpu_tests.log | head -30
export BUILD_DIR=build/gpu DECODE_BENCH_WHEELS=.whl-pat
cmake -DTILESTREAM_PYTHON=ON -DPython_EXECUTABLE=$(command -v python3) build/gpu > $OUT/reconf.log 2>&1; echo "reconfigure rc $? at $SECONDS s"
pb() { # NAME SPLIT SHARE READERS BUDGET
  local name=$1 split=$2 share=$3 readers=$4 budget=$5
  env OUT=/tmp/db_$name DECODE_BENCH_BUDGET_S=$budget TILESTREAM_PATCH_SPLIT=$split ${share:+TILESTREAM_PATCH_CPU_SHARE=$share} \
    timeout $((budget + 20)) bash bench/device/decode_bench.sh --quick --slides t256-q80 -- --sections patches --readers $readers > /dev/null 2>&1
  echo "patches $name rc $? at $SECONDS s"
  tail -n 15 /tmp/db_$name/decode_bench.log >> $OUT/j_log.txt
  cp /tmp/db_$name/decode.md $OUT/patches_$name.md 2>/dev/null
  grep -E "patches/s|/s \|" /tmp/db_$name/decode.md | head -14 | tee -a $OUT/j.txt
}
pb tiles tiles "" tilestream,cucim 170
[ $SECONDS -lt 450 ] && pb split03 patches 0.3 tilestream 75
[ $SECONDS -lt 500 ] && pb split05 patches 0.5 tilestream 75
source bench/device/prepare.sh
bin=build/gpu/tilestream; w=/tmp/conv; mkdir -p $w
if [ $SECONDS -lt 540 ] && [ -x $bin ]; then
  $bin synth $w/seed.tif --size 19920x26420 --tile 256 --compression jpeg --quality 80 > /dev/null
  for name in cpu:cpu: gauto:cuda:--mode\ global cpu2:cpu: gauto2:cuda:--mode\ global; do
    IFS=: read n dev extra <<<"$name"
    $bin convert $w/seed.tif $w/o_$n.zarr --ome --codec zstd --zarr-version 3 --threads 16 --overwrite --json --device $dev $extra > $w/c.json 2>/dev/null
    echo "convert $n rc $? $(python3 -c "
import json; j=json.load(open('$w/c.json')); d=j['datasets']
print('total %.3f' % j['total_seconds'], 'levels', [round(x['seconds'],3) for x in d], 'enc', [x['encode']['encoder'][:3] for x in d])")" | tee -a $OUT/j.txt
  done
fi
echo "end at $SECONDS s"
