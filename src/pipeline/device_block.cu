// Spreading (y, x, c) bands into (c, y, x) planes on the device; see device_block.hpp.
#include "pipeline/device_block.hpp"

#include <algorithm>

#include "tilestream/core/error.hpp"
#include "tilestream/cuda/error.hpp"

namespace tilestream::pipeline {
namespace {

template <class Sample>
__global__ void scatter_kernel(const std::byte* src, std::size_t src_stride, std::uint64_t width, std::uint32_t samples,
                               std::byte* dst, std::size_t plane_bytes, std::size_t dst_row_bytes) {
  const std::uint64_t y = blockIdx.y;
  const auto* row = reinterpret_cast<const Sample*>(src + y * src_stride);
  for (std::uint64_t x = blockIdx.x * std::uint64_t{blockDim.x} + threadIdx.x; x < width;
       x += std::uint64_t{gridDim.x} * blockDim.x) {
    for (std::uint32_t c = 0; c < samples; ++c) {
      auto* out = reinterpret_cast<Sample*>(dst + c * plane_bytes + y * dst_row_bytes);
      out[x] = row[x * samples + c];
    }
  }
}

}  // namespace

void scatter_band_to_planes(const std::byte* src, std::size_t src_stride, std::uint64_t rows, std::uint64_t width,
                            std::uint32_t samples, std::size_t sample_bytes, std::byte* dst, std::size_t plane_bytes,
                            std::size_t dst_row_bytes, cudaStream_t stream) {
  if (rows == 0 || width == 0) return;
  check<UsageError>(rows <= 65535, "scatter_band_to_planes: ", rows, " rows in one band (at most 65535)");
  constexpr unsigned threads = 256;
  const dim3 grid(static_cast<unsigned>(std::min<std::uint64_t>((width + threads - 1) / threads, 64)),
                  static_cast<unsigned>(rows));
  switch (sample_bytes) {
    case 1: scatter_kernel<std::uint8_t><<<grid, threads, 0, stream>>>(src, src_stride, width, samples, dst, plane_bytes, dst_row_bytes); break;
    case 2: scatter_kernel<std::uint16_t><<<grid, threads, 0, stream>>>(src, src_stride, width, samples, dst, plane_bytes, dst_row_bytes); break;
    case 4: scatter_kernel<std::uint32_t><<<grid, threads, 0, stream>>>(src, src_stride, width, samples, dst, plane_bytes, dst_row_bytes); break;
    default: throw UsageError(concat("scatter_band_to_planes: samples of ", sample_bytes, " bytes"));
  }
  cuda::check_cuda(cudaGetLastError(), "scatter_band_to_planes launch");
}

}  // namespace tilestream::pipeline
