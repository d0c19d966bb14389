# device run E: GPU tests of the batched encoder, grouped tiled workers, nvJPEG allocators and auto tiled decode; then convert and process timings
export TILESTREAM_COMMIT=${TILESTREAM_COMMIT:-wip}
export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
GPU_TESTS_JOBS=4 GPU_TESTS_REGEX='DevicePipelineMemory|DeviceEncodeRefusals|DevicePipelineNvJpeg|DeviceConvert|DeviceEncode' timeout 360 bash bench/device/gpu_tests.sh > /dev/null 2>&1; echo "gpu tests rc $? at $SECONDS s"
grep -E "tests passed|Failed|\*\*\*Failed|Not Run|Skipped" $OUT/gpu_tests.log | head -30
grep -E "Failure|Expected|actual" $OUT/gpu_tests.log | head -20
