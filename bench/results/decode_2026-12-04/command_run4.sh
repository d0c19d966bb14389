# run 4 (device command: bash dev4.sh; carry .nvcomp dev4.sh): convert cpu vs cuda, tiled and global, twice
export TILESTREAM_COMMIT=9d3fdf6
source bench/device/prepare.sh
export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
if command -v ninja >/dev/null; then g=Ninja; else g="Unix Makefiles"; fi
cmake -S . -B build/conv -G "$g" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DTILESTREAM_CUDA=ON -DTILESTREAM_TESTS=OFF -DTILESTREAM_BENCH=OFF > $OUT/configure.log 2>&1
timeout 200 cmake --build build/conv -j 16 --target tilestream > $OUT/build.log 2>&1; echo "build rc $? at $SECONDS s"
bin=build/conv/tilestream; w=/tmp/conv; mkdir -p $w
$bin synth $w/seed.tif --size 19920x26420 --tile 256 --compression jpeg --quality 80 > /dev/null; echo "synth at $SECONDS s"
cat $w/seed.tif > /dev/null
run() { # NAME ARGS...
  local name=$1; shift
  rm -rf $w/out.zarr
  $bin convert $w/seed.tif $w/out.zarr --ome --codec zstd --zarr-version 3 --threads 16 --overwrite --json "$@" > $OUT/$name.json 2> $OUT/$name.err
  echo "$name rc $? $(python3 -c "import json,sys; j=json.load(open('$OUT/$name.json')); print('total', j.get('total_seconds'), 'mode', j.get('mode'), 'decode', (j.get('decode') or {}).get('decoder'), 'encode', (j.get('encode') or {}).get('encoder'))" 2>&1 | tail -1)"
}
for rep in 1 2; do
  run cpu_tiled_$rep --device cpu
  run cuda_tiled_$rep --device cuda
  run cpu_global_$rep --device cpu --mode global
  run cuda_global_$rep --device cuda --mode global
done
echo "done at $SECONDS s"
