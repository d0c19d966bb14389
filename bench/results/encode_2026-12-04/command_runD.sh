# device run D: where the first read's time goes, and why tiled workers read slowly
export TILESTREAM_COMMIT=${TILESTREAM_COMMIT:-wip}
source bench/device/prepare.sh
export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
cmake -S . -B build/conv -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DTILESTREAM_CUDA=ON -DTILESTREAM_TESTS=OFF -DTILESTREAM_BENCH=ON -DTILESTREAM_PYTHON=OFF > $OUT/build.log 2>&1
timeout 260 cmake --build build/conv -j 16 --target tilestream >> $OUT/build.log 2>&1; echo "build rc $? at $SECONDS s"
bin=build/conv/tilestream; w=/tmp/conv; mkdir -p $w
[ -f $w/seed.tif ] || $bin synth $w/seed.tif --size 19920x26420 --tile 256 --compression jpeg --quality 80 > /dev/null; echo "synth at $SECONDS s"
cat $w/seed.tif > /dev/null
rd() { local name=$1; shift; "$@" $bin read $w/seed.tif --level 0 --device cuda --repeat 3 --json > $w/read.json 2> $w/read.err; echo "$name $(python3 -c "
import json; j=json.load(open('$w/read.json')); print('runs', [round(x,3) for x in j['runs_seconds']], 'setup', round(j['setup_seconds'],3), j['decode']['decoder'])" 2>&1 | tail -1)" | tee -a $OUT/d.txt; }
rd default env
rd eager env CUDA_MODULE_LOADING=EAGER
rd hardware env TILESTREAM_NVJPEG_BACKEND=hardware
rd threads4 env TILESTREAM_THREADS=4
run() { # NAME ARGS...
  local name=$1; shift
  rm -rf $w/$name.zarr
  /usr/bin/time -f "%e s wall %U user %S sys" -o $w/time.txt $bin convert $w/seed.tif $w/$name.zarr --ome --codec zstd --zarr-version 3 --overwrite --json "$@" > $w/$name.json 2> $w/$name.err
  echo "$name rc $? $(cat $w/time.txt) $(python3 -c "
import json; j=json.load(open('$w/$name.json')); d=j['datasets']
print('total %.3f' % j['total_seconds'], 'L0 %.3f' % d[0]['seconds'], 'L1 %.3f' % d[1]['seconds'], 'busy r/w %.2f/%.2f' % (d[0]['busy_seconds']['read'], d[0]['busy_seconds']['write']), 'enc', d[0]['encode']['encoder'], 'group', d[0].get('group'), 'workers', d[0]['workers'])" 2>&1 | tail -1)" | tee -a $OUT/d.txt
  tail -2 $w/$name.err >> $OUT/d.txt
}
run cpu --device cpu --threads 16
run tiled_decodecpu --device cuda --decode cpu --encode cpu --threads 16
run tiled_gpu_t16 --device cuda --encode cpu --threads 16
run tiled_gpu_t4 --device cuda --encode cpu --threads 4
run tiled_gpu_t8 --device cuda --encode cpu --threads 8
TILESTREAM_NVJPEG_BACKEND=hardware run tiled_hw_t16 --device cuda --encode cpu --threads 16
CUDA_MODULE_LOADING=EAGER run global_eager --device cuda --mode global --threads 16
echo "runs done at $SECONDS s"
if command -v nsys >/dev/null; then
  timeout 150 nsys profile -o $w/prof --force-overwrite true --stats=false $bin convert $w/seed.tif $w/nsys.zarr --ome --codec zstd --zarr-version 3 --overwrite --device cuda --encode cpu --threads 16 > /dev/null 2>&1; echo "nsys rc $? at $SECONDS s"
  timeout 120 nsys stats --report cuda_api_sum --format csv $w/prof.nsys-rep 2>/dev/null | head -40 > $OUT/nsys_api.txt
  timeout 60 nsys stats --report cuda_gpu_kern_sum --format csv $w/prof.nsys-rep 2>/dev/null | head -25 > $OUT/nsys_kern.txt
  echo "nsys stats at $SECONDS s"
else
  echo "no nsys" >> $OUT/d.txt; ls /usr/local/cuda/bin | head -50 >> $OUT/d.txt
fi
