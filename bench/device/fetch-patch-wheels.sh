#!/usr/bin/env bash
# On a developer machine (with PyPI): what bench/device/patches_bench.sh needs on the GPU machine, which
# has no network and only numpy, torch, cupy, tifffile, pillow and pytest of these: the wheels of the
# other readers into .whl-patches/ (ignored by git) and the real test slide into
# .testslides/aperio/CMU-1-Small-Region.svs. Then carry both with the device command:
#   bench/device/fetch-patch-wheels.sh          (prints the carry list and its size)
# All for CPython 3.12 on manylinux x86_64, without dependency resolution (--no-deps): the list below is
# the resolution, checked against each wheel's Requires-Dist (printed at the end for a check by eye).
# The device command carries at most 64 MiB (67.1 MB): imagecodecs (27.7 MB whole, 3.1 MB slim) and
# nvidia-nvimgcodec-cu13 (25.0 MB whole, 5.5 MB slim) are slimmed to what the benchmark reads
# (bench/device/slim_wheel.py); the set is 39.6 MB (cucim 16.7, numcodecs 9.3, nvimgcodec 5.5,
# imagecodecs 3.1, openslide-bin 2.8, the rest 2.2), with the slide 41.5 MB.
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-.venv/bin/python}
dir=.whl-patches
rm -rf "$dir"  # no wheel of an earlier list travels
mkdir -p "$dir"

wheels=(
  openslide-python==1.4.7    # Requires-Dist: Pillow (there); finds the library in openslide-bin
  openslide-bin==4.0.1.2     # 2.8 MB: OpenSlide 4.0.1 and its libraries (the version the issue measured)
  tiffslide==4.0.0           # imagecodecs, fsspec, pillow, tifffile>=2026.5.2, zarr>=3.2,<4, typing_extensions
  fsspec==2026.9.0
  tifffile==2026.11.16       # numpy>=2.1; newer than the machine's, for tiffslide 4 (first on PYTHONPATH)
  imagecodecs==2026.11.11    # numpy; slimmed below to its JPEG, deflate and zlib codecs (what TIFF slides use)
  zarr==3.2.0                # donfig, google-crc32c, numcodecs>=0.14, numpy>=2, packaging>=22, typing-extensions>=4.13
  numcodecs==0.16.6          # 9.3 MB; numpy, typing_extensions
  donfig==0.8.1.post1        # pyyaml
  pyyaml==6.0.4
  google-crc32c==1.9.0
  typing-extensions==4.16.0
  packaging==26.4
  cucim-cu13==26.10.0        # 16.7 MB. Requires-Dist: click, cupy-cuda13x[ctk], lazy-loader, numpy, scipy,
                             # scikit-image<0.27 (cupy, scipy, scikit-image, lazy-loader there), and
                             # nvidia-nvimgcodec-cu13 (below). CuImage's default plugin, cuslide, decodes
                             # JPEG with libjpeg-turbo and, for device="cuda", a static nvJPEG: it needs
                             # neither nvImageCodec nor the toolkit's libnvjpeg.
  monai==1.6.1               # 1.7 MB, pure Python: tests/python_api/test_monai.py there (torch, numpy there)
  click==8.5.1               # cucim.clara imports it (its CLI): without it `from cucim import CuImage` fails
  nvidia-nvimgcodec-cu13==0.9.0.20  # only for cuCIM's second plugin, cuslide2 (ENABLE_CUSLIDE2=1), which
                             # dlopens libnvimgcodec.so.0; slimmed below to that library and its JPEG and
                             # TIFF extensions (nvJPEG from /usr/local/cuda/lib64, on the library's RUNPATH)
)

"$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$dir" "${wheels[@]}"

# imagecodecs: the package's Python, its shared helpers, the JPEG (8-bit, lossless, SOF3), deflate and
# zlib codecs and their libraries (libjpeg-turbo, libdeflate; zlib is the system's); tifffile and
# tiffslide load codecs on first use, so the others are missing only if asked for.
"$python" bench/device/slim_wheel.py "$dir"/imagecodecs-2026.11.11-*.whl 'imagecodecs/*.py' 'imagecodecs/*.pyi' \
  'imagecodecs/py.typed' 'imagecodecs/licenses/*' 'imagecodecs/_shared*' 'imagecodecs/_imcd.*' 'imagecodecs/_jpeg.*' \
  'imagecodecs/_jpeg8.*' 'imagecodecs/_ljpeg.*' 'imagecodecs/_jpegsof3.*' 'imagecodecs/_deflate.*' \
  'imagecodecs/_zlib.*' 'imagecodecs.libs/libjpeg-*' 'imagecodecs.libs/libdeflate-*'
# nvImageCodec: the C library cuslide2 dlopens and the extensions for JPEG and TIFF; not its Python module
# (one build per Python version, 5 MB each), the OpenCV, JPEG 2000, BMP and PNM extensions or the headers.
"$python" bench/device/slim_wheel.py "$dir"/nvidia_nvimgcodec_cu13-0.9.0.20-*.whl 'nvidia/__init__.py' \
  'nvidia/nvimgcodec/libnvimgcodec.so.0' 'nvidia/nvimgcodec/extensions/libnvjpeg_ext.*' \
  'nvidia/nvimgcodec/extensions/libjpeg_turbo_ext.*' 'nvidia/nvimgcodec/extensions/libtiff_ext.*' \
  'nvidia/nvimgcodec/extensions/libnvtiff_ext.*'

slide_source=${TILESTREAM_TESTDATA:-../shared/testdata}/aperio/CMU-1-Small-Region.svs
mkdir -p .testslides/aperio
if [ ! -s .testslides/aperio/CMU-1-Small-Region.svs ]; then
  cp "$slide_source" .testslides/aperio/
fi

for wheel in "$dir"/tiffslide-*.whl "$dir"/zarr-*.whl "$dir"/cucim_cu13-*.whl; do
  echo "${wheel##*/}:"
  unzip -p "$wheel" '*/METADATA' | grep '^Requires-Dist' | grep -v 'extra ==' || true
done
ls -la "$dir"
du -sh "$dir" .testslides
echo "carry: $dir .testslides ($(du -cb "$dir" .testslides | tail -n1 | cut -f1) bytes; the limit is 67108864)"
