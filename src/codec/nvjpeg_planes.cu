// Interleaving of nvJPEG's unchanged RGB planes; see nvjpeg_planes.hpp.
#include "codec/nvjpeg_planes.hpp"

#include <algorithm>

#include "tilestream/cuda/error.hpp"

namespace tilestream::codec::nvjpeg {
namespace {

__global__ void interleave_kernel(const std::uint8_t* planes, const std::uint32_t* tiles, std::size_t plane,
                                  std::uint8_t* out) {
  const std::size_t j = blockIdx.y;
  const std::uint8_t* r = planes + 3 * j * plane;
  const std::uint8_t* g = r + plane;
  const std::uint8_t* b = g + plane;
  std::uint8_t* o = out + std::size_t{tiles[j]} * 3 * plane;
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < plane;
       i += std::size_t{gridDim.x} * blockDim.x) {
    o[3 * i] = r[i];
    o[3 * i + 1] = g[i];
    o[3 * i + 2] = b[i];
  }
}

}  // namespace

void interleave_rgb_planes(const std::byte* planes, const std::uint32_t* tiles, std::size_t count,
                           std::size_t plane_pixels, std::byte* out, cudaStream_t stream) {
  if (count == 0 || plane_pixels == 0) return;
  constexpr unsigned threads = 256;
  const auto blocks = static_cast<unsigned>(std::min<std::size_t>((plane_pixels + threads - 1) / threads, 64));
  const dim3 grid(blocks, static_cast<unsigned>(count));
  interleave_kernel<<<grid, threads, 0, stream>>>(reinterpret_cast<const std::uint8_t*>(planes), tiles, plane_pixels,
                                                  reinterpret_cast<std::uint8_t*>(out));
  cuda::check_cuda(cudaGetLastError(), "interleave_rgb_planes launch");
}

}  // namespace tilestream::codec::nvjpeg
