// Writing a device image as the blocks of a Zarr array: each block is cut out of the image on the GPU
// (cuda/image_kernels.hpp), then
//  - uncompressed, unsharded arrays (the stored bytes are the block's bytes): posix copies the block
//    to the host in pinned pieces, writing one piece with pwrite while the next one is copied; gds
//    writes it from device memory with cuFileWrite;
//  - any other array (compressed, sharded, transposed): the block is copied to pinned memory and
//    encoded and stored by the array's BlockEncoder on the CPU thread (the io mode is then posix).
// Every file is written under a temporary name and renamed into place, like FileStore::put, so the
// store holds exactly the bytes the CPU writer would write. fsync, when asked for, runs after the last
// block, over every file written and its folders, and is timed apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "tilestream/cuda/device_image.hpp"
#include "tilestream/io/io_mode.hpp"
#include "tilestream/zarr/array.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::cuda {

struct ZarrWriteOptions {
  unsigned threads = 0;            // writing threads, one stream each; 0: settings default
  std::optional<io::IoMode> io;    // posix, gds, or auto (gds only where GPUDirect really runs); nullopt: default
  bool fsync = false;
  bool channels_first = false;     // the array is (c, y, x); else (y, x, c)
  bool skip_existing = false;      // keep blocks already in the store (resume)
  std::size_t piece_bytes = 0;     // posix: bytes per pinned piece; 0: settings task size
};

struct ZarrWriteReport {
  io::IoMode io = io::IoMode::posix;  // the mode that wrote the blocks
  std::string io_detail;
  std::uint64_t blocks_written = 0;
  std::uint64_t blocks_skipped = 0;
  std::uint64_t bytes_written = 0;    // stored bytes (encoded when compressed)
  double write_seconds = 0;           // first block cut to last file renamed
  double fsync_seconds = 0;           // the fsync pass (0 without fsync)
};

// Writes every block of `writer`'s array (whose metadata the writer has written) from `image`, whose
// (height, width, samples, dtype) must match the spec's shape in the chosen layout (UsageError
// otherwise). `store` must be the store the writer writes to. IoError names the key and the system or
// cuFile error; a failed block leaves no file under its key.
ZarrWriteReport write_zarr_blocks(const DeviceImage& image, zarr::FileStore& store, const zarr::ArrayWriter& writer,
                                  const ZarrWriteOptions& options = {});

}  // namespace tilestream::cuda
