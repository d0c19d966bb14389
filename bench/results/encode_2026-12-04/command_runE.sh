# device run E: GPU tests of the batched encoder, grouped tiled workers, nvJPEG allocators and auto tiled decode; then convert and process timings
export TILESTREAM_COMMIT=${TILESTREAM_COMMIT:-wip}
export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
GPU_TESTS_JOBS=4 GPU_TESTS_REGEX='DeviceEncode|DeviceConvert|DevicePipeline|Fault|ReadPatches|PlacePatches|PatchesGpu|DeviceJpeg|Nvcomp|DeviceChunkEncoder|MissingLibraries|DeviceReader' timeout 360 bash bench/device/gpu_tests.sh > /dev/null 2>&1; echo "gpu tests rc $? at $SECONDS s"
grep -E "tests passed|Failed|\*\*\*Failed|Not Run|Skipped" $OUT/gpu_tests.log | head -30
source bench/device/prepare.sh
bin=build/gpu/tilestream; w=/tmp/conv; mkdir -p $w
[ -x $bin ] || { echo "no $bin"; exit 1; }
$bin synth $w/seed.tif --size 19920x26420 --tile 256 --compression jpeg --quality 80 > /dev/null; echo "synth at $SECONDS s"
cat $w/seed.tif > /dev/null
run() { # NAME COMMAND ARGS...
  local name=$1 cmd=$2; shift 2
  rm -rf $w/$name.zarr
  if [ "$cmd" = convert ]; then set -- $w/seed.tif $w/$name.zarr --ome --codec zstd --zarr-version 3 --threads 16 --overwrite --json "$@";
  else set -- $w/seed.tif $w/$name.zarr --op sobel --codec zstd --zarr-version 3 --threads 16 --overwrite --json "$@"; fi
  /usr/bin/time -f "%e s wall %U user %S sys" -o $w/time.txt $bin $cmd "$@" > $w/$name.json 2> $w/$name.err
  echo "$name rc $? $(cat $w/time.txt) $(python3 -c "
import json; j=json.load(open('$w/$name.json')); d=j['datasets'] if 'datasets' in j else [j]
print('total %.3f' % j['total_seconds'], 'L0 %.3f' % d[0]['seconds'], 'busy r/w %.2f/%.2f' % (d[0]['busy_seconds']['read'], d[0]['busy_seconds']['write']), 'dec', d[0]['decode']['decoder'], 'enc', d[0]['encode']['encoder'], 'group', d[0].get('group'), 'workers', d[0]['workers'])" 2>&1 | tail -1)" | tee -a $OUT/timings.txt
  (echo "{\"name\": \"$name\", \"report\": "; cat $w/$name.json; echo "}") | python3 -c "import json,sys; print(json.dumps(json.loads(sys.stdin.read())))" >> $OUT/runs.jsonl 2>/dev/null
}
for rep in 1 2 3; do
  run convert_cpu_$rep convert --device cpu
  run convert_cuda_$rep convert --device cuda
  run convert_cuda_global_$rep convert --device cuda --mode global
done
run convert_cuda_gpudecode convert --device cuda --decode gpu
run convert_cuda_global_gpuenc convert --device cuda --mode global --encode gpu
for rep in 1 2; do
  run process_cpu_$rep process --device cpu
  run process_cuda_$rep process --device cuda
done
run process_cuda_gpudecode process --device cuda --decode gpu
echo "runs done at $SECONDS s"
timeout 60 python3 - <<'PY' > $OUT/check.txt 2>&1
import tensorstore as ts, numpy as np
def lvl(name, k):
    return ts.open({'driver': 'zarr3', 'kvstore': {'driver': 'file', 'path': f'/tmp/conv/{name}.zarr/{k}'}}).result().read().result()
for name in ['convert_cuda_1', 'convert_cuda_global_1']:
    for k in range(7):
        a = lvl('convert_cpu_1', k).astype(np.int16); b = lvl(name, k).astype(np.int16)
        d = np.abs(a - b)
        print(name, k, a.shape, 'max', d.max(), 'mean %.4f' % d.mean())
PY
echo "check rc $? at $SECONDS s"
