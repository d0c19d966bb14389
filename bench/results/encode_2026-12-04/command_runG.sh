# device run G: the first read of a process, by stage
export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
source bench/device/prepare.sh
cmake -S . -B build/conv -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DTILESTREAM_CUDA=ON -DTILESTREAM_TESTS=OFF -DTILESTREAM_BENCH=OFF -DTILESTREAM_PYTHON=OFF > $OUT/build.log 2>&1
timeout 150 cmake --build build/conv -j 16 --target tilestream >> $OUT/build.log 2>&1; echo "build rc $? at $SECONDS s"
bin=build/conv/tilestream; w=/tmp/conv; mkdir -p $w
$bin synth $w/seed.tif --size 19920x26420 --tile 256 --compression jpeg --quality 80 > /dev/null; cat $w/seed.tif > /dev/null; echo "synth at $SECONDS s"
rd() { local name=$1; shift; env "$@" $bin read $w/seed.tif --level 0 --device cuda --repeat 3 --json > $w/read.json 2> $w/read.err; echo "$name $(python3 -c "
import json; j=json.load(open('$w/read.json')); print('runs', [round(x,3) for x in j['runs_seconds']], 'allocate', [round(x,3) for x in j.get('runs_allocate_seconds',[])], 'setup', round(j['setup_seconds'],3))" 2>&1 | tail -1)" | tee -a $OUT/g.txt; }
rd default X=1
rd lanes1 TILESTREAM_JPEG_LANES=1
rd batch64 TILESTREAM_JPEG_BATCH=64
