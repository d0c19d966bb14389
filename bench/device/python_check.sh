#!/usr/bin/env bash
# On the GPU machine: builds the Python wheel (pip wheel with the machine's nanobind and
# scikit-build-core, CUDA sm_90), installs it into a folder on PYTHONPATH and runs the Python API's
# device tests with the machine's CuPy and PyTorch (tests/python_api/test_device.py, test_reading.py,
# test_package.py). The log goes to $OUT/python_check.log.
# The machine's environment sets CXX, CC and CUDAHOSTCXX to a GCC under /opt/gcc that has only a
# static libstdc++: an extension module linked with it carries its own libstdc++, whose stream
# locale is missing after the linker's --gc-sections, and the first number formatted into a message
# ends the process. The system compiler (dynamic libstdc++) is used instead.
#   OUT=... TILESTREAM_COMMIT=... bench/device/python_check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/device/prepare.sh
export CXX=/usr/bin/g++ CC=/usr/bin/gcc CUDAHOSTCXX=/usr/bin/g++
out=${OUT:-/tmp/python-check}
work=$(mktemp -d)
mkdir -p "$out"
log=$out/python_check.log
{
  echo "== $(date -u +%FT%TZ) commit ${TILESTREAM_COMMIT:-unknown}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  python3 -m pip wheel . -q --no-build-isolation --no-deps -w "$work/wheel" -C build-dir=build/python-gpu \
    -C cmake.define.CMAKE_CUDA_ARCHITECTURES=90 -C cmake.define.CMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc
  python3 -m pip install -q --no-deps --target "$work/site" "$work"/wheel/tilestream-*.whl
  ldd "$work"/site/tilestream/_tilestream*.so | grep libstdc++
  repo=$PWD
  cd "$work"  # not the repository root: the installed package is the one imported
  PYTHONPATH="$work/site" python3 -m pytest -q -p no:cacheprovider -rs "$repo/tests/python_api/test_device.py" \
    "$repo/tests/python_api/test_reading.py" "$repo/tests/python_api/test_package.py"
} 2>&1 | tee "$log"
