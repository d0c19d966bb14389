// JPEG tiles decoded on the GPU with nvJPEG's batched decoder, reached through dlopen so that one
// binary runs where libnvjpeg is absent (and `auto` then decodes on the CPU). Built with CUDA only;
// nvjpeg.h types stay in src/codec/nvjpeg.cpp, and without nvjpeg.h at build time every entry
// point reports nvJPEG unavailable.
// nvJPEG's CUDA backend (GPU-assisted Huffman decoding, CUDA IDCT) decodes by default: on the H200 it
// was faster than the hardware JPEG decoder, whose batches failed under several threads; the hardware
// decoder is one setting away (TILESTREAM_NVJPEG_BACKEND=hardware). Which one ran, and why, is part
// of every device read's report (slide/device_reader.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tilestream/codec/decode_mode.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::codec::nvjpeg {

// How a run's JPEG tiles bound for device memory are decoded, decided once per run and device.
struct ResolvedDecode {
  bool gpu = false;       // nvJPEG decodes the JPEG tiles it can take (the others fall back to the CPU)
  bool hardware = false;  // with the GPU's hardware JPEG decoder
  std::string decoder;    // "nvJPEG hardware decoder", "nvJPEG CUDA backend" or "CPU (libjpeg-turbo)"
  std::string detail;     // why, in a sentence: the library, the engines, what was missing
  // The decode mode was auto: the reader may share a patch batch's tiles between nvJPEG and CPU
  // threads (DeviceReader::read_patches); under gpu nvJPEG decodes every tile it can take.
  bool automatic = false;
  DecodeMode mode = DecodeMode::automatic;  // the mode asked for (JPEG 2000 tiles resolve their decoder from it)
};

// cpu: the CPU, saying it was asked for. automatic: nvJPEG where libnvjpeg loads and a handle can be
// made on `device` (its CUDA backend, or the hardware decoder with TILESTREAM_NVJPEG_BACKEND=hardware),
// else the CPU, saying what was missing. gpu: as automatic, but UnsupportedError naming what is
// missing instead of the CPU. Thread-safe; the handle is made once per device and kept.
ResolvedDecode resolve_device_decode(DecodeMode mode, int device);

// How decoded tiles are laid out: 8-bit, `samples` interleaved per pixel, rows of width * samples bytes.
// `rgb_components`: the stream's three components are R, G and B (TIFF photometric RGB), not YCbCr,
// so they are decoded unchanged (no colour conversion) and interleaved, as libjpeg does for
// JCS_RGB.
struct TileFormat {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t samples = 3;
  bool rgb_components = false;
  std::size_t bytes() const { return std::size_t{width} * height * samples; }
};

// A batched decoder for one thread on one device: two nvJPEG states (slots), so that one batch
// decodes while the thread prepares the next. Not thread-safe; make one per thread.
class BatchDecoder {
 public:
  // UnsupportedError when nvJPEG is unavailable on `device` (resolve_device_decode says why).
  BatchDecoder(int device, const ResolvedDecode& decode);
  ~BatchDecoder();
  BatchDecoder(BatchDecoder&&) noexcept;
  BatchDecoder& operator=(BatchDecoder&&) noexcept;

  // Queues on `stream` the decode of every complete JPEG stream streams[j] (host memory, pinned for
  // speed; codec/jpeg_stream.hpp joins TIFF's abbreviated streams with their tables) into
  // out + tiles[j] * format.bytes() (device memory), using state `slot` (0 or 1): the caller waits
  // for the work it queued with this slot before reusing the slot or its streams' memory.
  // Returns "" when nvJPEG took the batch, else nvJPEG's error (nothing was decoded for sure: the
  // caller decodes the batch on the CPU, which names a tile that is really corrupt). CudaError for
  // CUDA failures.
  std::string decode(std::size_t slot, std::span<const std::span<const std::byte>> streams,
                     std::span<const std::uint32_t> tiles, const TileFormat& format, std::byte* out,
                     const cuda::Stream& stream);

  struct Impl;  // nvJPEG's states and buffers (src/codec/nvjpeg.cpp)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tilestream::codec::nvjpeg
