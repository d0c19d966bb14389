# run 2 (device command: bash dev3.sh; carry .whl-decode .nvcomp dev3.sh): the benchmark (t256-q80,
# quick), the Python GPU tests, then the GPU tests of the new code.
export TILESTREAM_COMMIT=${TC:-8683fde}
start=$SECONDS
DECODE_BENCH_WHEELS=.whl-decode DECODE_BENCH_BUDGET_S=${BUDGET:-330} bash bench/device/decode_bench.sh --quick --slides t256-q80 > $OUT/bench.log 2>&1
echo "bench rc $? after $((SECONDS-start)) s"
cp /tmp/tilestream-bench/out/decode.jsonl /tmp/tilestream-bench/out/decode.md $OUT/ 2>/dev/null
grep -E "decode.py:|PASS|FAIL|not measured" $OUT/bench.log | tail -40
source bench/device/prepare.sh
export PYTHONPATH=/tmp/tilestream-bench/decode-pkg:/tmp/site-patches
timeout 60 python3 -m pytest -q -x -rs tests/python_api/test_device.py tests/python_api/test_patch_loader.py > $OUT/pytests.log 2>&1; echo "python tests rc $?"; tail -3 $OUT/pytests.log
if command -v ninja >/dev/null; then g=Ninja; else g="Unix Makefiles"; fi
cmake -S . -B build/gpu -G "$g" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DTILESTREAM_CUDA=ON -DTILESTREAM_TESTS=ON -DTILESTREAM_BENCH=OFF > $OUT/configure.log 2>&1
left=$((570 - SECONDS)); echo "building gpu tests with $left s left"
timeout $((left - 60)) cmake --build build/gpu -j 16 --target tilestream_gpu_tests tilestream > $OUT/build.log 2>&1; echo "build rc $?"; tail -2 $OUT/build.log
left=$((585 - SECONDS))
cd build/gpu && timeout $left ctest -L gpu -j 4 -R 'PlacePatches|ReadPatches|DeviceJpeg|DevicePipelineNvJpeg|DeviceEncode' --output-on-failure > $OUT/tests.log 2>&1; echo "tests rc $?"
grep -E "tests passed|tests failed|\*\*\*Failed|Timeout" $OUT/tests.log | head -30
