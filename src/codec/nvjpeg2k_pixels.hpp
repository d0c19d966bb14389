// The kernel behind nvJPEG2000's planar output: a batch's decoded components, one plane each (chroma
// possibly subsampled), interleaved into tiles as the CPU decoder lays them out, Aperio's YCbCr
// (33003) converted to RGB with the CPU decoder's tables (codec/jpeg2000.hpp, OpenSlide's). Built with
// CUDA only.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace tilestream::codec::nvjpeg2k {

// Where a batch's planes lie: stream j's component c at planes + j * stream_bytes + offset[c], rows of
// pitch[c] bytes, component pixel (x / step_x[c], y / step_y[c]) serving tile pixel (x, y), as OpenJPEG's
// components with dx, dy > 1 are read by the CPU decoder.
struct PlaneLayout {
  std::uint32_t width = 0;   // the tile's pixels
  std::uint32_t height = 0;
  std::uint32_t samples = 0;  // components, 1 to 4
  std::uint32_t sample_bytes = 1;  // 1 (uint8) or 2 (uint16)
  bool aperio_ycbcr = false;  // three 8-bit components Y, Cb, Cr converted to RGB
  std::size_t stream_bytes = 0;
  // Plain arrays, which device code indexes (std::array's operator[] is host code).
  std::size_t offset[4] = {};
  std::size_t pitch[4] = {};
  std::uint32_t step_x[4] = {1, 1, 1, 1};
  std::uint32_t step_y[4] = {1, 1, 1, 1};
};

// For each j < count: stream j's planes (layout) go, interleaved, to out + tiles[j] * tile bytes.
// `tiles` is device memory. Queued on `stream`.
void interleave_planes(const std::byte* planes, const PlaneLayout& layout, const std::uint32_t* tiles,
                       std::size_t count, std::byte* out, cudaStream_t stream);

}  // namespace tilestream::codec::nvjpeg2k
