// Writing a device image as the blocks of a Zarr array: each block is cut out of the image on the GPU
// (cuda/image_kernels.hpp), then
//  - uncompressed, unsharded arrays (the stored bytes are the block's bytes): posix copies the block
//    to the host in pinned pieces, writing one piece into the store's streaming write
//    (zarr::Store::begin) while the next one is copied; gds writes it from device memory with
//    cuFileWrite into the value's file (stores whose values are files: zarr::ValueWriter::file());
//  - any other array (compressed, sharded, transposed): the block is copied to pinned memory and
//    encoded and stored by the array's BlockEncoder on the CPU thread (the io mode is then posix).
// Every block is a value of the store committed like any other (atomic, and durable as the store's
// policy says: FileStore's fsync option), so the store holds exactly the bytes the CPU writer would
// write. With a store that syncs on commit, commits run on threads of their own while the workers go
// on; the wait for the last of them is timed apart (fsync_seconds).
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
  double write_seconds = 0;           // first block cut to last block written (and committed, without fsync)
  double fsync_seconds = 0;           // then the wait for the commits still syncing (0 when the store does not sync)
};

// Writes every block of `writer`'s array (whose metadata the writer has written) from `image`, whose
// (height, width, samples, dtype) must match the spec's shape in the chosen layout (UsageError
// otherwise). `store` must be the store the writer writes to; io gds needs one whose values are files
// (UsageError otherwise; auto then picks posix and says why). IoError names the key and the system or
// cuFile error; a failed block leaves no file under its key.
ZarrWriteReport write_zarr_blocks(const DeviceImage& image, zarr::Store& store, const zarr::ArrayWriter& writer,
                                  const ZarrWriteOptions& options = {});

}  // namespace tilestream::cuda
