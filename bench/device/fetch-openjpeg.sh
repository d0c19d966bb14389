#!/usr/bin/env bash
# Here, before a device command that builds tilestream with JPEG 2000 (the GPU machine has no OpenJPEG):
# unpacks Debian's libopenjp2-7 and libopenjp2-7-dev into .device-deps/ (ignored, about 1.5 MB) with
# ../shared/device/fetch-debs.sh, and makes its pkg-config file relocatable (prefix from the file's own
# folder), so that bench/device/prepare.sh's PKG_CONFIG_PATH lets CMake find it there.
set -euo pipefail
cd "$(dirname "$0")/../.."
../shared/device/fetch-debs.sh .device-deps libopenjp2-7 libopenjp2-7-dev
pc=.device-deps/usr/lib/x86_64-linux-gnu/pkgconfig/libopenjp2.pc
sed -i 's|^prefix=.*|prefix=${pcfiledir}/../../..|' "$pc"
grep -n '^prefix=' "$pc"
