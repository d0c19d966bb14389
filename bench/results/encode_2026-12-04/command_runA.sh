# device run A: nvCOMP throughput by batch, and convert cpu vs cuda (batched encode) with reports
export TILESTREAM_COMMIT=${TILESTREAM_COMMIT:-wip}
source bench/device/prepare.sh
export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
cmake -S . -B build/conv -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DTILESTREAM_CUDA=ON -DTILESTREAM_TESTS=OFF -DTILESTREAM_BENCH=ON -DTILESTREAM_PYTHON=OFF > $OUT/build.log 2>&1
timeout 260 cmake --build build/conv -j 16 --target tilestream tilestream_nvcomp_throughput >> $OUT/build.log 2>&1; echo "build rc $? at $SECONDS s"
bin=build/conv/tilestream; w=/tmp/conv; mkdir -p $w
[ -f $w/seed.tif ] || $bin synth $w/seed.tif --size 19920x26420 --tile 256 --compression jpeg --quality 80 > /dev/null; echo "synth at $SECONDS s"
cat $w/seed.tif > /dev/null
timeout 150 build/conv/bench/tilestream_nvcomp_throughput $w/seed.tif --threads 16 --repeat 2 --batches 1,8,32,128 --codecs zstd,blosc:lz4,gzip:1 > $OUT/micro.jsonl 2>&1; echo "micro rc $? at $SECONDS s"
timeout 60 build/conv/bench/tilestream_nvcomp_throughput $w/seed.tif --threads 1 --repeat 1 --batches 2028 --codecs zstd >> $OUT/micro.jsonl 2>&1; echo "micro1 rc $? at $SECONDS s"
run() { # NAME ARGS...
  local name=$1; shift
  rm -rf $w/$name.zarr
  /usr/bin/time -f "%e s wall %U user %S sys" -o $w/time.txt $bin convert $w/seed.tif $w/$name.zarr --ome --codec zstd --zarr-version 3 --threads 16 --overwrite --json "$@" > $w/$name.json 2> $w/$name.err
  echo "$name rc $? $(cat $w/time.txt) $(python3 -c "
import json; j=json.load(open('$w/$name.json')); d=j['datasets']
print('total %.3f' % j['total_seconds'], 'L0 %.3f' % d[0]['seconds'], 'busy r/w %.2f/%.2f' % (d[0]['busy_seconds']['read'], d[0]['busy_seconds']['write']), 'enc', d[0]['encode']['encoder'], d[0]['encode']['blocks_gpu'], 'group', d[0].get('group'), 'workers', d[0]['workers'])" 2>&1 | tail -1)" | tee -a $OUT/convert.txt
  (echo "{\"name\": \"$name\", \"report\": "; cat $w/$name.json; echo "}") | python3 -c "import json,sys; print(json.dumps(json.loads(sys.stdin.read())))" >> $OUT/runs.jsonl 2>/dev/null
  tail -3 $w/$name.err >> $OUT/convert.txt
}
for rep in 1 2; do
  run cpu_tiled_$rep --device cpu
  run cuda_tiled_gpu_$rep --device cuda --encode gpu
  run cuda_global_gpu_$rep --device cuda --encode gpu --mode global
done
run cuda_tiled_cpuenc --device cuda --encode cpu
run cuda_global_cpuenc --device cuda --encode cpu --mode global
TILESTREAM_TILED_GROUP=4 run cuda_tiled_g4 --device cuda --encode gpu
TILESTREAM_TILED_GROUP=16 run cuda_tiled_g16 --device cuda --encode gpu
TILESTREAM_ENCODE_BATCH=8 run cuda_global_b8 --device cuda --encode gpu --mode global
TILESTREAM_ENCODE_BATCH=128 run cuda_global_b128 --device cuda --encode gpu --mode global
echo "runs done at $SECONDS s"
timeout 120 python3 - <<'PY' > $OUT/check.txt 2>&1
import tensorstore as ts, numpy as np
def lvl(name, k):
    return ts.open({'driver': 'zarr3', 'kvstore': {'driver': 'file', 'path': f'/tmp/conv/{name}.zarr/{k}'}}).result().read().result()
for name in ['cuda_tiled_gpu_1', 'cuda_global_gpu_1']:
    for k in range(7):
        a = lvl('cpu_tiled_1', k).astype(np.int16); b = lvl(name, k).astype(np.int16)
        d = np.abs(a - b)
        print(name, k, a.shape, 'max', d.max(), 'mean %.4f' % d.mean())
PY
echo "check rc $? at $SECONDS s"
du -sh $w/cpu_tiled_1.zarr $w/cuda_tiled_gpu_1.zarr >> $OUT/convert.txt
