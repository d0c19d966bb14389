// JPEG 2000 tiles (TIFF 33003, 33004, 33005, 34712) decoded on the GPU with nvJPEG2000, reached through
// dlopen so that one binary runs where libnvjpeg2k is absent (and `auto` then decodes them on the CPU
// with OpenJPEG, codec/registry). Built with CUDA only; nvjpeg2k.h types stay in
// src/codec/nvjpeg2k.cpp, and without nvjpeg2k.h at build time every entry point reports nvJPEG2000
// unavailable.
// nvJPEG2000 decodes one codestream per call (its tile-parallel work runs on the GPU): a batch is a
// loop of parse + decode calls on one thread's CUDA stream, each into planes of a scratch buffer, and
// one kernel then interleaves the batch's planes into tiles (src/codec/nvjpeg2k_pixels.cu), converting
// Aperio's YCbCr components (33003) to RGB with the CPU decoder's arithmetic
// (codec::aperio_ycbcr_to_rgb). Lanes of several threads give throughput, as with nvJPEG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tilestream/codec/decode_mode.hpp"
#include "tilestream/codec/nvjpeg.hpp"
#include "tilestream/core/dtype.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::codec::nvjpeg2k {

// The same decision as nvJPEG's, for JPEG 2000 tiles: decoder "nvJPEG2000" or the CPU's OpenJPEG.
using ResolvedDecode = nvjpeg::ResolvedDecode;

// cpu: the CPU, saying it was asked for. automatic: nvJPEG2000 where libnvjpeg2k loads
// (TILESTREAM_NVJPEG2K_LIBRARY, else libnvjpeg2k.so.0) and a handle can be made on `device`, else the
// CPU, saying what was missing. gpu: as automatic, but UnsupportedError naming what is missing.
// Thread-safe; the handle is made once per device and kept.
ResolvedDecode resolve_device_decode(DecodeMode mode, int device);

// How decoded tiles are laid out: `samples` interleaved per pixel, `dtype` uint8 or uint16, rows of
// width * samples samples. `aperio_ycbcr`: three components Y, Cb, Cr (Aperio's 33003) converted to
// RGB as the CPU decoder does.
struct TileFormat {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t samples = 3;
  DType dtype = DType::uint8;
  bool aperio_ycbcr = false;
  std::size_t bytes() const { return std::size_t{width} * height * samples * bytes_per_sample(dtype); }
};

// What a batch left to the CPU: the positions (into the batch's streams) of codestreams nvJPEG2000
// would not decode to `format` as the CPU decoder does (other component sizes, precisions or signs,
// or a stream it could not parse: the CPU decoder then names a corrupt tile), and the first reason.
struct Refused {
  std::vector<std::uint32_t> streams;
  std::string reason;
};

// A batch decoder for one thread on one device: two batch slots, so that one batch decodes while the
// thread prepares the next, and a ring of decode states (TILESTREAM_NVJPEG2K_STATES, default 4), each
// reused only once the GPU has run its last decode. Not thread-safe; make one per thread.
class BatchDecoder {
 public:
  // UnsupportedError when nvJPEG2000 is unavailable on `device` (resolve_device_decode says why).
  BatchDecoder(int device, const ResolvedDecode& decode);
  ~BatchDecoder();
  BatchDecoder(BatchDecoder&&) noexcept;
  BatchDecoder& operator=(BatchDecoder&&) noexcept;

  // Queues on `stream` the decode of every codestream streams[j] (host memory; J2K codestreams or JP2
  // files) into out + tiles[j] * format.bytes() (device memory), using state `slot` (0 or 1): the
  // caller waits for the work it queued with this slot before reusing the slot or its streams' memory.
  // Returns the streams it left to the CPU (their tiles are not written). CudaError for CUDA failures.
  Refused decode(std::size_t slot, std::span<const std::span<const std::byte>> streams,
                 std::span<const std::uint32_t> tiles, const TileFormat& format, std::byte* out,
                 const cuda::Stream& stream);

  struct Impl;  // nvJPEG2000's states and buffers (src/codec/nvjpeg2k.cpp)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tilestream::codec::nvjpeg2k
