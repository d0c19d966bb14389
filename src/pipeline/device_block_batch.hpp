// Padded Zarr blocks made in device memory and compressed together by nvCOMP, for the CUDA backend
// (src/pipeline/device_backend.cpp). Built with CUDA only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/stream.hpp"
#include "tilestream/ops/device.hpp"
#include "tilestream/pipeline/backend.hpp"
#include "tilestream/zarr/device_encoder.hpp"

namespace tilestream::pipeline {

// What makes a band of a block's pixels on the device: it queues the work on the caller's stream and
// returns where the band lies (in a view that may be larger than the band).
using MakeBand = std::function<ops::ConstDeviceTileView(const ops::Box&)>;

// Makes task.out's padded block at `block` in device memory as `format` says, band by band from
// make_band (rows copied, or spread into planes for (c, y, x)). The copies are queued on `stream`
// behind whatever made each band, so a band buffer may be reused for the next band at once.
void make_block_on_device(const ChunkTask& task, const DeviceBlockFormat& format, std::size_t pixel_bytes,
                          std::uint64_t rows_per_band, const MakeBand& make_band, std::byte* block,
                          const cuda::Stream& stream);

// Blocks made in device memory and compressed together: one nvCOMP call for a batch keeps the GPU's
// multiprocessors busy where one chunk alone is one thread block's work (zstd, gzip), and the calls
// of several threads overlap each other's framing and writing on the host.
class EncodeBatch {
 public:
  // Room for `capacity` blocks of `format` and an encoder for its compressor (kept when it matches).
  void prepare(const DeviceBlockFormat& format, std::size_t capacity, const cuda::Stream& stream);
  std::size_t capacity() const { return block_bytes_ == 0 ? 0 : blocks_.size() / block_bytes_; }
  // Makes `task`'s padded block in the next slot (sink.begin_encoded first: a stop request ends the
  // run before the block is made). UsageError when the batch is full.
  void add(const ChunkTask& task, const DeviceBlockFormat& format, std::size_t pixel_bytes, std::uint64_t rows_per_band,
           const MakeBand& make_band, const cuda::Stream& stream, ChunkSink& sink);
  // Compresses the blocks added since the last call in one nvCOMP call (which waits for the work that
  // made them) and stores each through `sink`; returns how many.
  std::size_t encode_and_store(const cuda::Stream& stream, ChunkSink& sink);

 private:
  cuda::DeviceBuffer blocks_;
  std::size_t block_bytes_ = 0;
  std::optional<zarr::DeviceChunkEncoder> encoder_;
  std::string encoder_key_;  // what encoder_ was made for
  std::vector<const ChunkTask*> tasks_;
};

}  // namespace tilestream::pipeline
