// Interleaving (and Aperio YCbCr conversion) of nvJPEG2000's planes; see nvjpeg2k_pixels.hpp.
#include "codec/nvjpeg2k_pixels.hpp"

#include <algorithm>

#include "codec/jpeg2000.hpp"
#include "tilestream/cuda/error.hpp"

namespace tilestream::codec::nvjpeg2k {
namespace {

// The CPU decoder's Aperio YCbCr tables (aperio_ycbcr_tables) as plain arrays, passed by value to the
// kernel (3 KiB of its parameters), so that both sides add the same rounded terms.
struct YcbcrTables {
  std::int16_t r_cr[256];
  std::int32_t g_cb[256];
  std::int32_t g_cr[256];
  std::int16_t b_cb[256];
};

YcbcrTables ycbcr_tables() {
  YcbcrTables t{};
  std::copy(aperio_ycbcr_tables.r_cr.begin(), aperio_ycbcr_tables.r_cr.end(), t.r_cr);
  std::copy(aperio_ycbcr_tables.g_cb.begin(), aperio_ycbcr_tables.g_cb.end(), t.g_cb);
  std::copy(aperio_ycbcr_tables.g_cr.begin(), aperio_ycbcr_tables.g_cr.end(), t.g_cr);
  std::copy(aperio_ycbcr_tables.b_cb.begin(), aperio_ycbcr_tables.b_cb.end(), t.b_cb);
  return t;
}

__device__ std::uint8_t clamp_to_byte(int v) { return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v); }

template <class Sample>
__device__ Sample component(const std::byte* planes, const PlaneLayout& l, std::uint32_t c, std::uint32_t x,
                            std::uint32_t y) {
  const std::byte* row = planes + l.offset[c] + std::size_t{y / l.step_y[c]} * l.pitch[c];
  return reinterpret_cast<const Sample*>(row)[x / l.step_x[c]];
}

template <class Sample>
__global__ void interleave_kernel(const std::byte* planes, PlaneLayout l, YcbcrTables t, const std::uint32_t* tiles,
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
      if (l.aperio_ycbcr) {  // aperio_ycbcr_to_rgb's arithmetic
        const int luma = component<Sample>(mine, l, 0, x, y);
        const Sample cb = component<Sample>(mine, l, 1, x, y);
        const Sample cr = component<Sample>(mine, l, 2, x, y);
        p[0] = clamp_to_byte(luma + t.r_cr[cr]);
        p[1] = clamp_to_byte(luma + ((t.g_cb[cb] + t.g_cr[cr]) >> 16));
        p[2] = clamp_to_byte(luma + t.b_cb[cb]);
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
  static const YcbcrTables tables = ycbcr_tables();
  if (layout.sample_bytes == 2) {
    interleave_kernel<std::uint16_t><<<grid, threads, 0, stream>>>(planes, layout, tables, tiles, out);
  } else {
    interleave_kernel<std::uint8_t><<<grid, threads, 0, stream>>>(planes, layout, tables, tiles, out);
  }
  cuda::check_cuda(cudaGetLastError(), "nvjpeg2k interleave_planes launch");
}

}  // namespace tilestream::codec::nvjpeg2k
