# device run H: global nvCOMP batches spread evenly, parallel lanes; cold read by stage
export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
source bench/device/prepare.sh
cmake -S . -B build/conv -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DTILESTREAM_CUDA=ON -DTILESTREAM_TESTS=OFF -DTILESTREAM_BENCH=OFF -DTILESTREAM_PYTHON=OFF > $OUT/build.log 2>&1
timeout 170 cmake --build build/conv -j 16 --target tilestream >> $OUT/build.log 2>&1; echo "build rc $? at $SECONDS s"
bin=build/conv/tilestream; w=/tmp/conv; mkdir -p $w
$bin synth $w/seed.tif --size 19920x26420 --tile 256 --compression jpeg --quality 80 > /dev/null; cat $w/seed.tif > /dev/null; echo "synth at $SECONDS s"
rd() { local name=$1; shift; local t0=$(date +%s.%N); env "$@" $bin read $w/seed.tif --level 0 --device cuda --repeat 3 --json > $w/read.json 2> $w/read.err; local t1=$(date +%s.%N); echo "$name wall $(python3 -c "print(round($t1-$t0,3))") $(python3 -c "
import json; j=json.load(open('$w/read.json')); print('runs', [round(x,3) for x in j['runs_seconds']], 'allocate', [round(x,3) for x in j.get('runs_allocate_seconds',[])], 'setup', round(j['setup_seconds'],3))" 2>&1 | tail -1)" | tee -a $OUT/h.txt; }
rd default_parallel_lanes X=1
rd lanes1 TILESTREAM_JPEG_LANES=1
cv() { local name=$1 dev=$2; shift 2; local t0=$(date +%s.%N); env "$@" $bin convert $w/seed.tif $w/o_$name.zarr --ome --codec zstd --zarr-version 3 --threads 16 --overwrite --json --device $dev $CVARGS > $w/c.json 2>$w/c.err; local rc=$?; local t1=$(date +%s.%N); echo "$name rc $rc wall $(python3 -c "print(round($t1-$t0,3))") $(python3 -c "
import json; j=json.load(open('$w/c.json')); d=j['datasets']
print('total %.3f' % j['total_seconds'], 'levels', [round(x['seconds'],3) for x in d], 'L0 busy', {k: round(v,2) for k,v in d[0]['busy_seconds'].items()}, 'enc', d[0]['encode']['encoder'], d[0]['encode']['blocks_gpu'])
print('   L0 io:', d[0].get('io_detail','')[-260:])" 2>&1 | tail -2)" | tee -a $OUT/h.txt; tail -c 300 $w/c.err >> $OUT/h_err.txt; }
CVARGS="" cv cpu1 cpu X=1
CVARGS="--mode global --encode gpu" cv gg1 cuda X=1
CVARGS="--mode global --encode gpu" cv gg2 cuda X=1
CVARGS="" cv cpu2 cpu X=1
CVARGS="--mode global --encode cpu" cv gc1 cuda X=1
CVARGS="--mode global --encode gpu" cv gg_if512 cuda TILESTREAM_ENCODE_IN_FLIGHT=512
CVARGS="--mode global --encode gpu" cv gg_if4096 cuda TILESTREAM_ENCODE_IN_FLIGHT=4096
CVARGS="" cv tiled_default cuda X=1
CVARGS="" cv cpu3 cpu X=1
CVARGS="--mode global --encode gpu" cv gg3 cuda X=1
python3 - <<'P' >> $OUT/h.txt 2>&1
import json,sys
try:
    import tensorstore as ts, numpy as np
    for name in ('gg3',):
        for lv in range(7):
            a=ts.open({'driver':'zarr3','kvstore':{'driver':'file','path':f'/tmp/conv/o_{name}.zarr/{lv}'}}).result().read().result()
            b=ts.open({'driver':'zarr3','kvstore':{'driver':'file','path':f'/tmp/conv/o_cpu3.zarr/{lv}'}}).result().read().result()
            d=np.abs(a.astype(np.int16)-b.astype(np.int16)); print(name, lv, a.shape, 'max', d.max(), 'mean %.4f' % d.mean())
except Exception as e: print('check failed', e)
P
echo "end at $SECONDS s"
