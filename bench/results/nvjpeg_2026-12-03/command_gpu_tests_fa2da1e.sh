export TILESTREAM_COMMIT=fa2da1e
timeout 330 env GPU_TESTS_REGEX='Jpeg|Nvcomp|DeviceChunkEncoder|DeviceReader|DeviceConvert|DevicePipeline|DevicePhotometric' GPU_TESTS_JOBS=4 JOBS=16 bench/device/gpu_tests.sh > $OUT/gpu_tests_run.log 2>&1; echo "tests rc $?"
grep -E "tests passed|tests failed|\*\*\*Failed|Timeout|Not Run" $OUT/gpu_tests_run.log | head -40
(cd build/gpu && TILESTREAM_TESTDATA=$PWD/../../.testslides timeout 40 ./tests/tilestream_gpu_tests --gtest_filter='Shared/DeviceJpegReal*:*Nvcomp*Library*' 2>&1 | grep -E "nvjpeg   \]|OK|FAILED|SKIPPED" | head -20)
