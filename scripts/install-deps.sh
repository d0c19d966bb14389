#!/usr/bin/env bash
# Installs what tilestream needs to build and test on Debian 12 (run as root), and a Python
# virtual environment (.venv) with the reference readers the tests compare against.
# Skips whatever is already there, so repeated runs are quick.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build clang libclang-rt-14-dev zlib1g-dev libjpeg-dev
          libzstd-dev liblzma-dev libwebp-dev libopenjp2-7-dev libblosc-dev pkg-config nlohmann-json3-dev libcli11-dev libgtest-dev libbenchmark-dev
          libturbojpeg0
          python3 python3-venv python3-pip)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# zarr 3 (zarr-python's v3 API, which reads both Zarr formats), tensorstore and ome-zarr-models are
# the independent readers and validators the Zarr interop tests and the convert benchmark use.
# nvidia-cufile, nvidia-nvjpeg, nvidia-nvjpeg2k-cu13 and nvidia-libnvcomp-cu13 bring cufile.h, nvjpeg.h,
# nvjpeg2k.h and nvcomp.h
# (cmake/cufile.cmake, nvjpeg.cmake, nvjpeg2k.cmake and nvcomp.cmake find them there where the CUDA toolkit lacks
# them) and the libraries tilestream dlopens; they have no Python module, so the check below looks for
# the headers. scikit-image is the reference the image operations (`tilestream process`) are compared
# with. pydicom writes the DICOM test series; wsidicom reads them as the second reference beside
# OpenSlide, and wsidicomizer converts the shared SVS to DICOM (through libturbojpeg0).
# nanobind and scikit-build-core build the Python package (pyproject.toml) from the release build;
# pytest-xdist runs the Python test files in parallel.
python_packages=(numpy tifffile imagecodecs openslide-python openslide-bin pytest
                 'zarr>=3' tensorstore ome-zarr-models numcodecs nvidia-cufile nvidia-nvjpeg nvidia-nvjpeg2k-cu13 nvidia-libnvcomp-cu13
                 scikit-image matplotlib pydicom wsidicom wsidicomizer
                 nanobind scikit-build-core pytest-xdist)
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# One interpreter start checks every module, that zarr is the v3 line (zarr 2 imports fine too) and
# that the NVIDIA wheels' headers are there.
if ! .venv/bin/python -c "
import numpy, tifffile, imagecodecs, openslide, pytest, tensorstore, ome_zarr_models, numcodecs, zarr, skimage, matplotlib
import pydicom, wsidicom, wsidicomizer
import nanobind, scikit_build_core, xdist
import os, sysconfig
assert int(zarr.__version__.split('.')[0]) >= 3, zarr.__version__
assert os.path.isfile(os.path.join(sysconfig.get_paths()['purelib'], 'nvidia/cu13/include/cufile.h'))
assert os.path.isfile(os.path.join(sysconfig.get_paths()['purelib'], 'nvidia/cu13/include/nvjpeg.h'))
assert os.path.isfile(os.path.join(sysconfig.get_paths()['purelib'], 'nvidia/libnvcomp/include/nvcomp.h'))
assert os.path.isfile(os.path.join(sysconfig.get_paths()['purelib'], 'nvidia/nvjpeg2k/include/nvjpeg2k.h'))
" 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check "${python_packages[@]}"
fi
