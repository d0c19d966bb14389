// Zarr chunks compressed on the GPU with nvCOMP (dlopen'ed, src/zarr/nvcomp.cpp): a batch of chunks in
// device memory becomes, per chunk, the bytes the CPU codec of the same CompressorSpec decodes (and so
// numcodecs, zarr-python and tensorstore); they need not equal the CPU encoder's bytes.
//
// What runs where, per compressor (levels: the spec's, else the codec's default):
//   zstd   one zstd frame per chunk (nvcompBatchedZstd). nvCOMP's zstd has no levels: the level is
//          written to metadata but does not change the bytes. Chunks up to 16 MiB (nvCOMP's limit).
//   gzip   one gzip member per chunk (nvcompBatchedGzip: header, deflate, CRC-32 and ISIZE computed by
//          nvCOMP on the GPU); checked to be one member of the chunk (ISIZE). Level 0..9 maps to nvCOMP's
//          algorithm 0 (entropy only; nvCOMP has no stored mode), 1-2 -> 1, 3-5 -> 2, 6-8 -> 4, 9 -> 5.
//   zlib   that gzip member's deflate data between a zlib header (FLEVEL from the level) and the
//          chunk's Adler-32, computed on the GPU (src/zarr/device_kernels.cu). Levels as gzip.
//   blosc  blosc1 frames of lz4 (also for cname lz4hc: the same stream format, lz4's ratio), zstd or
//          zlib blocks (128 KiB lz4, 256 KiB otherwise), not split by typesize (the header says so),
//          with noshuffle or byte shuffle (done per block on the GPU); clevel 0 and chunks under 128
//          bytes are stored uncompressed as blosc stores them, as is any block that does not shrink.
//          clevel maps to nvCOMP as gzip's level for zlib; lz4 and zstd have none. Not on the GPU:
//          bitshuffle (also AUTOSHUFFLE of 1-byte samples), blosclz and snappy.
//   crc32c not on the GPU: a checksum codec, which the CPU appends.
// Empty chunks are encoded by the CPU codec (there is nothing to move). A chunk over nvCOMP's limit is
// an UnsupportedError, never split: several zstd frames or gzip members are a stream that our CPU
// decoders and numcodecs' do not read back whole.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tilestream/zarr/array.hpp"

namespace tilestream::cuda {
class Stream;
}

namespace tilestream::zarr {

class DeviceChunkEncoder {
 public:
  // One chunk: `bytes` bytes of device memory (of the stream's device) at `device_data`; any alignment.
  struct Chunk {
    const std::byte* device_data = nullptr;
    std::size_t bytes = 0;
  };

  // Why the GPU cannot produce the bytes of `spec` for samples of `typesize` bytes ("crc32c is a
  // checksum codec...", "blosc with bitshuffle"), or "" when it can. A fact about the codec and its
  // settings alone: it needs neither a GPU nor nvCOMP (see available()), and is built without CUDA too.
  static std::string gpu_unsupported_reason(const CompressorSpec& spec, std::size_t typesize = 1);
  // Whether nvCOMP loads (once per process); when it does not and `why_not` is given, stores why (built
  // without nvcomp.h, "libnvcomp.so.6 not found (dlopen: ...); pip install nvidia-libnvcomp-cu13 or set
  // TILESTREAM_NVCOMP_LIBRARY"). CUDA builds only.
  static bool available(std::string* why_not = nullptr) noexcept;

  // Throws UnsupportedError with gpu_unsupported_reason, or why nvCOMP is unavailable. CUDA builds only.
  DeviceChunkEncoder(CompressorSpec spec, std::size_t typesize);
  ~DeviceChunkEncoder();
  DeviceChunkEncoder(DeviceChunkEncoder&& other) noexcept;
  DeviceChunkEncoder& operator=(DeviceChunkEncoder&& other) noexcept;
  DeviceChunkEncoder(const DeviceChunkEncoder&) = delete;
  DeviceChunkEncoder& operator=(const DeviceChunkEncoder&) = delete;

  const CompressorSpec& spec() const;
  std::size_t typesize() const;

  // Encodes `chunks` in one batch on `stream` and returns each chunk's encoded bytes, in order. Work
  // queued on `stream` before the call (what wrote the chunks) is waited for; the call returns once
  // the bytes are on the host, and the chunks' memory may then be reused. Device temporaries, output
  // and staging buffers are kept and grown across calls, freed on the last call's stream, which must
  // outlive the encoder. One thread at a time per encoder. Throws UnsupportedError listing every
  // chunk over nvCOMP's size limit (before any work), CodecError listing every chunk nvCOMP failed
  // on, UsageError for a null pointer with a non-zero size, CudaError for CUDA failures.
  std::vector<std::vector<std::byte>> encode(std::span<const Chunk> chunks, const cuda::Stream& stream);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tilestream::zarr
