# device run M: every GPU test (ctest -L gpu) of the final tree, 4 at a time; carry .nvcomp and .testslides
# (aperio/CMU-1-Small-Region.svs and derived/cmu1-pyramid-jpeg-bigtiff.tif from the shared test data)
export TILESTREAM_COMMIT=a0a59a3 CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
GPU_TESTS_JOBS=4 timeout 560 bash bench/device/gpu_tests.sh > /dev/null 2>&1; echo "gpu tests rc $? at $SECONDS s"
