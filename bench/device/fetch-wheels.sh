#!/usr/bin/env bash
# On a developer machine (with PyPI): downloads into .whl/ (ignored by git) the wheels that
# bench/device/io_bench.sh and process_bench.sh install on the GPU machine, which has no network:
# zarr-python 3 and what it needs beyond numpy (the baselines of use cases 2 and 3), kvikio for CUDA 13
# with its loader's needs (a comparison in use case 1), nvidia-cufile (libcufile and cufile.h, used
# only where the machine's CUDA toolkit lacks GDS) and cucim for CUDA 13 (cucim.skimage, the ops of
# the use case 3 baseline). All for CPython 3.12 on manylinux x86_64, without dependency resolution
# (--no-deps): the list below is the resolution, checked against each wheel's Requires-Dist.
# numpy, cupy-cuda13x, scipy, scikit-image (and so lazy-loader) are on the GPU machine already and
# are deliberately not here. Keep .whl/ under 40 MB (the device command carries at most 64 MiB).
#   bench/device/fetch-wheels.sh            (then carry .whl with the device command)
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-.venv/bin/python}
mkdir -p .whl

wheels=(
  zarr==3.1.6                # Requires-Dist: donfig, google-crc32c, numcodecs, numpy, packaging, typing-extensions
  numcodecs==0.16.6          # numpy, typing_extensions
  donfig==0.8.1.post1        # pyyaml
  google-crc32c==1.9.0
  pyyaml==6.0.4              # for donfig; small, carried in case the machine's is missing
  typing-extensions==4.16.0  # zarr wants >= 4.12 (Ubuntu 24.04's python3-typing-extensions is 4.10)
  packaging==26.4            # zarr wants >= 22
  kvikio-cu13==26.10.0       # cupy-cuda13x (there), libkvikio-cu13, numpy, packaging
  libkvikio-cu13==26.10.0    # cuda-pathfinder, rapids-logger, cuda-toolkit[cufile] (see nvidia-cufile)
  rapids-logger==0.3.0       # librapids_logger.so, which libkvikio.so links
  cuda-pathfinder==1.9.1     # libkvikio's loader imports it to find libcufile
  nvidia-cufile==1.15.1.6    # cuFile of CUDA 13.0 (the machine's toolkit and driver line)
  cucim-cu13==26.10.0        # 16.7 MB. Requires-Dist: cupy-cuda13x[ctk], numpy, scipy, scikit-image<0.27,
                             # lazy-loader (all there); click and nvidia-nvimgcodec-cu13 only for
                             # cucim.clara (slide I/O), which is not used: without click its import
                             # fails quietly and cucim.skimage / cucim.core load alone
  monai==1.6.1               # 1.7 MB, py3-none-any, for tests/python_api/test_monai.py (tilestream.monai).
                             # Requires-Dist: torch>=2.8, numpy (both there); pure Python
)

"$python" -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${wheels[@]}"

# What zarr and cucim require, for a check by eye that the list above covers it.
for wheel in .whl/zarr-*.whl .whl/cucim_cu13-*.whl; do
  echo "${wheel##*/}:"
  unzip -p "$wheel" '*/METADATA' | grep '^Requires-Dist' | grep -v 'extra ==' || true
done
ls -la .whl
du -sh .whl
