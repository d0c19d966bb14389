#!/usr/bin/env bash
# Here, before bench/device/decode_bench.sh: the wheels issue 14's benchmark needs, linked from
# .whl-patches/ (bench/device/fetch-patch-wheels.sh) into .whl-decode/ (ignored by git), so that they,
# .nvcomp/ (bench/device/fetch-nvcomp.sh) and the working tree fit the device's 64 MiB carry
# (.whl-patches is 40 MB, .nvcomp 26 MB): cuCIM and nvImageCodec, imagecodecs and tifffile, zarr-python
# and what it needs that the GPU machine lacks (numcodecs, donfig, google-crc32c). OpenSlide, tiffslide
# and MONAI stay behind. Then, there: DECODE_BENCH_WHEELS=.whl-decode bench/device/decode_bench.sh ...
# with carry .whl-decode .nvcomp (the SVS rows need .testslides too: a separate command).
set -euo pipefail
cd "$(dirname "$0")/../.."
from=.whl-patches to=.whl-decode
[ -d "$from" ] || { echo "decode-wheels.sh: no $from/: run bench/device/fetch-patch-wheels.sh first" >&2; exit 2; }
grep -qx '/.whl-decode/' .git/info/exclude 2>/dev/null || echo '/.whl-decode/' >>.git/info/exclude
mkdir -p "$to"
for name in cucim_cu13 nvidia_nvimgcodec_cu13 imagecodecs tifffile zarr numcodecs donfig google_crc32c; do
  wheels=("$from/$name"-*.whl)
  [ -e "${wheels[0]}" ] || { echo "decode-wheels.sh: no $name wheel in $from/" >&2; exit 2; }
  ln -f "${wheels[@]}" "$to/"
done
du -cb "$to" .nvcomp 2>/dev/null | tail -n1 | awk '{printf "decode-wheels.sh: %.1f MB in .whl-decode and .nvcomp\n", $1 / 1e6}'
