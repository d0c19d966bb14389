// downsample2x's CUDA twin: one thread per output sample, the mean of the 2x2 block it covers (the
// samples that exist at odd edges), with the CPU's integer rounding and float summation order. CPU
// twin: src/convert/downsample.cpp (through src/ops/downsample2x.cpp).
#include <cstdint>
#include <type_traits>

#include "ops/device_kernels.cuh"
#include "ops/op_table.hpp"
#include "ops/pixels.hpp"
#include "tilestream/core/float16.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::ops::device {
namespace {

// Integers: floor((2 sum + count) / (2 count)) (half up, floor division for negative sums) from the
// exact int64 sum; float32 and float16: the double sum / count rounded to the type, the sum taken row
// by row, left to right (float16 through the CPU's own conversions, core/float16.hpp).
template <class S>
__global__ void downsample2x_kernel(TilePair t) {
  const std::uint32_t samples = t.samples;
  for_each_item(t.out_height, t.out_width * samples, [&](std::uint64_t y, std::uint64_t i) {
    const std::uint64_t x = i / samples, c = i % samples;
    const std::uint64_t y0 = 2 * (t.out_y + y), x0 = 2 * (t.out_x + x);  // in the input image
    const std::uint64_t rows = y0 + 1 < t.image_height ? 2 : 1, cols = x0 + 1 < t.image_width ? 2 : 1;
    const std::byte* first = t.in + (y0 - t.in_y) * t.in_stride;
    const std::uint64_t first_index = (x0 - t.in_x) * samples + c;
    S value;
    if constexpr (std::is_floating_point_v<S> || std::is_same_v<S, Float16>) {
      double sum = 0.0;
      for (std::uint64_t dy = 0; dy < rows; ++dy) {
        for (std::uint64_t dx = 0; dx < cols; ++dx) {
          const S term = load_sample<S>(first + dy * t.in_stride, first_index + dx * samples);
          if constexpr (std::is_same_v<S, Float16>) {
            sum = __dadd_rn(sum, static_cast<double>(term.to_float()));
          } else {
            sum = __dadd_rn(sum, static_cast<double>(term));
          }
        }
      }
      const double mean = __ddiv_rn(sum, static_cast<double>(rows * cols));
      if constexpr (std::is_same_v<S, Float16>) {
        value = Float16::from_double(mean);
      } else {
        value = static_cast<S>(mean);
      }
    } else {
      std::int64_t sum = 0;
      for (std::uint64_t dy = 0; dy < rows; ++dy) {
        for (std::uint64_t dx = 0; dx < cols; ++dx) sum += load_sample<S>(first + dy * t.in_stride, first_index + dx * samples);
      }
      const auto count = static_cast<std::int64_t>(rows * cols);
      const std::int64_t num = 2 * sum + count, den = 2 * count;
      std::int64_t q = num / den;
      if (num % den != 0 && num < 0) --q;
      value = static_cast<S>(q);
    }
    store_sample<S>(t.out + y * t.out_stride, i, value);
  });
}

}  // namespace

void launch_downsample2x(const Op& /*op*/, const TilePair& t, DType dtype, const cuda::Stream& stream) {
  detail::visit_dtype(dtype, [&](auto sample) {
    using S = decltype(sample);
    downsample2x_kernel<S>
        <<<op_grid(t.out_height, t.out_width * t.samples), op_threads_per_block, 0, stream.get()>>>(t);
    cuda::check_launch("downsample2x_kernel");
  });
}

}  // namespace tilestream::ops::device
