#!/usr/bin/env bash
# Builds the Python wheel from the release build (scripts/build.sh release, which builds the
# extension where .venv has nanobind): scikit-build-core reuses build/release, so only what changed is
# compiled. Then installs the wheel into a fresh virtual environment (build/pyenv) with what the API
# tests compare against (pydicom: tests/python/dicom_writer.py writes the DICOM series), and runs
# tests/python_api against the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf build/wheel build/pyenv
.venv/bin/pip wheel . -q --no-build-isolation --no-deps --disable-pip-version-check -w build/wheel \
  -C build-dir=build/release
python3 -m venv build/pyenv
build/pyenv/bin/pip install -q --disable-pip-version-check build/wheel/tilestream-*.whl \
  pytest tifffile imagecodecs openslide-python openslide-bin pillow 'zarr>=3' dask ome-zarr-models xarray tqdm pydicom
# From the repository root, the installed package is the one imported (the sources are under python/).
build/pyenv/bin/python -c 'import tilestream, sys; assert "site-packages" in tilestream.__file__, tilestream.__file__'
build/pyenv/bin/python -m pytest -q tests/python_api
