export TILESTREAM_COMMIT=0525e0b
source bench/device/prepare.sh
if command -v ninja >/dev/null; then g=Ninja; else g="Unix Makefiles"; fi
cmake -S . -B build/gpu -G "$g" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DTILESTREAM_CUDA=ON -DTILESTREAM_TESTS=ON -DTILESTREAM_BENCH=OFF > $OUT/configure.log 2>&1
timeout 125 cmake --build build/gpu -j 16 --target tilestream_gpu_tests tilestream tilestream_fault_shim > $OUT/build.log 2>&1; echo "build rc $?"; tail -3 $OUT/build.log
cd build/gpu && timeout 70 ctest -L gpu -j 6 -R 'DeviceEncode|DeviceConvert|Fault|DevicePipelineNvJpeg' --output-on-failure > $OUT/tests.log 2>&1; echo "tests rc $?"
grep -E "tests passed|tests failed|\*\*\*Failed|Timeout" $OUT/tests.log | head -30
grep -B5 -A25 "Failure\|exception" $OUT/tests.log | head -80
