// Interleaving (and Aperio YCbCr conversion) of nvJPEG2000's planes; see nvjpeg2k_pixels.hpp.
#include "codec/nvjpeg2k_pixels.hpp"

#include <algorithm>

#include "codec/ycbcr.hpp"
#include "tilestream/cuda/error.hpp"

namespace tilestream::codec::nvjpeg2k {
namespace {

template <class Sample>
__device__ Sample component(const std::byte* planes, const PlaneLayout& l, std::uint32_t c, std::uint32_t x,
                            std::uint32_t y) {
  const std::byte* row = planes + l.offset[c] + std::size_t{y / l.step_y[c]} * l.pitch[c];
  return reinterpret_cast<const Sample*>(row)[x / l.step_x[c]];
}

template <class Sample>
__global__ void interleave_kernel(const std::byte* planes, PlaneLayout l, const std::uint32_t* tiles,
                                  std::byte* out) {
  const std::size_t j = blockIdx.y;
  const std::byte* mine = planes + j * l.stream_bytes;
  const std::size_t pixels = std::size_t{l.width} * l.height;
  Sample* o = reinterpret_cast<Sample*>(out) + std::size_t{tiles[j]} * pixels * l.samples;
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < pixels;
       i += std::size_t{gridDim.x} * blockDim.x) {
    const auto x = static_cast<std::uint32_t>(i % l.width);
    const auto y = static_cast<std::uint32_t>(i / l.width);
    Sample* p = o + i * l.samples;
    if constexpr (sizeof(Sample) == 1) {
      if (l.aperio_ycbcr) {
        const Rgb8 rgb = ycbcr_to_rgb(component<Sample>(mine, l, 0, x, y), component<Sample>(mine, l, 1, x, y),
                                      component<Sample>(mine, l, 2, x, y));
        p[0] = rgb.r;
        p[1] = rgb.g;
        p[2] = rgb.b;
        continue;
      }
    }
    for (std::uint32_t c = 0; c < l.samples; ++c) p[c] = component<Sample>(mine, l, c, x, y);
  }
}

}  // namespace

void interleave_planes(const std::byte* planes, const PlaneLayout& layout, const std::uint32_t* tiles,
                       std::size_t count, std::byte* out, cudaStream_t stream) {
  const std::size_t pixels = std::size_t{layout.width} * layout.height;
  if (count == 0 || pixels == 0) return;
  constexpr unsigned threads = 256;
  const auto blocks = static_cast<unsigned>(std::min<std::size_t>((pixels + threads - 1) / threads, 64));
  const dim3 grid(blocks, static_cast<unsigned>(count));
  if (layout.sample_bytes == 2) {
    interleave_kernel<std::uint16_t><<<grid, threads, 0, stream>>>(planes, layout, tiles, out);
  } else {
    interleave_kernel<std::uint8_t><<<grid, threads, 0, stream>>>(planes, layout, tiles, out);
  }
  cuda::check_cuda(cudaGetLastError(), "nvjpeg2k interleave_planes launch");
}

}  // namespace tilestream::codec::nvjpeg2k
