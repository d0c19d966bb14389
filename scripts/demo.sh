#!/usr/bin/env bash
# The main job on a built-in sample: installs, builds, writes a synthetic pyramidal JPEG slide,
# describes it and reads its full level 0 back.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
mkdir -p build/sample
bin=build/release/tilestream
"$bin" synth build/sample/sample.tif --aperio
"$bin" info build/sample/sample.tif
"$bin" read build/sample/sample.tif --level 0 -o build/sample/level0.npy
"$bin" read build/sample/sample.tif --level 2 -o build/sample/level2.png
echo "demo: wrote build/sample/level0.npy and build/sample/level2.png"
