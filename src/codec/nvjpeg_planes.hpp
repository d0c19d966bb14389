// The kernel behind nvJPEG's planar RGB output: libjpeg decodes TIFF's RGB (photometric 2) JPEG
// without colour conversion into interleaved pixels; nvJPEG gives the unchanged components as planes,
// which this interleaves. Built with CUDA only.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace tilestream::codec::nvjpeg {

// For each j < count: the three planes of `plane_pixels` bytes at planes + 3 * j * plane_pixels go,
// interleaved, to out + tiles[j] * 3 * plane_pixels. `tiles` is device memory. Queued on `stream`.
void interleave_rgb_planes(const std::byte* planes, const std::uint32_t* tiles, std::size_t count,
                           std::size_t plane_pixels, std::byte* out, cudaStream_t stream);

}  // namespace tilestream::codec::nvjpeg
