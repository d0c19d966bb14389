# Sourced by the device scripts on the GPU machine (bash). Two facts of that machine, set up where
# they are missing:
# - cuFile identifies a file's file system through udev's database (ID_FS_USAGE, ID_FS_TYPE); the VM
#   has no /run/udev, so cuFileHandleRegister fails for every file ("file descriptor is not
#   registered", cufile.log: "udev property not found"). Writing the root block device's entry lets
#   cuFile (compatibility mode there: no nvidia-fs) run. Needs root; skipped when not root.
# - the shared test slides do not travel; a copy carried in .testslides/ is used when present.
if [ "$(id -u)" = 0 ] && command -v mountpoint >/dev/null; then
  root_dev=$(mountpoint -d / 2>/dev/null || true)
  if [ -n "$root_dev" ] && [ ! -e "/run/udev/data/b$root_dev" ]; then
    mkdir -p /run/udev/data
    fs_type=$(findmnt -n -o FSTYPE / 2>/dev/null || echo ext4)
    printf 'E:ID_FS_USAGE=filesystem\nE:ID_FS_TYPE=%s\n' "$fs_type" >"/run/udev/data/b$root_dev"
    echo "prepare.sh: wrote udev data for block device $root_dev ($fs_type) so cuFile can register files"
  fi
fi
# - nvCOMP is not installed there: a copy carried in .nvcomp/ (bench/device/fetch-nvcomp.sh) is loaded.
if [ -f .nvcomp/lib64/libnvcomp.so.6 ]; then
  export TILESTREAM_NVCOMP_LIBRARY="$PWD/.nvcomp/lib64/libnvcomp.so.6"
fi
# - nor nvJPEG2000: a copy carried in .nvjpeg2k/ (bench/device/fetch-nvjpeg2k.sh) is loaded.
if [ -f .nvjpeg2k/lib/libnvjpeg2k.so.0 ]; then
  export TILESTREAM_NVJPEG2K_LIBRARY="$PWD/.nvjpeg2k/lib/libnvjpeg2k.so.0"
fi
# - nor OpenJPEG (the CPU's JPEG 2000 decoder): the Debian packages carried in .device-deps/
#   (bench/device/fetch-openjpeg.sh) are found by CMake through pkg-config and loaded at run time from
#   there.
if [ -d .device-deps/usr ]; then
  export CMAKE_PREFIX_PATH="$PWD/.device-deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export PKG_CONFIG_PATH="$PWD/.device-deps/usr/lib/x86_64-linux-gnu/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export LD_LIBRARY_PATH="$PWD/.device-deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
if [ -d .testslides ]; then
  export TILESTREAM_TESTDATA="$PWD/.testslides"
fi
export PATH="/usr/local/cuda/bin:$PATH"
