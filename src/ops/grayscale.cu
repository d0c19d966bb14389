// grayscale's CUDA twin: one thread per output pixel, rgb2gray in the CPU's precision and order. CPU
// twin: src/ops/grayscale.cpp.
#include <cstdint>
#include <type_traits>

#include "ops/device_kernels.cuh"
#include "ops/op_table.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::ops::device {
namespace {

// T: double for integer samples (after img_as_float), float for float32, as the CPU computes.
template <class S>
__global__ void grayscale_kernel(TilePair t) {
  for_each_item(t.out_height, t.out_width, [&](std::uint64_t y, std::uint64_t x) {
    const std::byte* row = t.in + y * t.in_stride;
    const S r = load_sample<S>(row, 3 * x), g = load_sample<S>(row, 3 * x + 1), b = load_sample<S>(row, 3 * x + 2);
    float gray;
    if constexpr (std::is_floating_point_v<S>) {
      constexpr float cr = static_cast<float>(0.2125), cg = static_cast<float>(0.7154), cb = static_cast<float>(0.0721);
      gray = __fadd_rn(__fadd_rn(__fmul_rn(cr, r), __fmul_rn(cg, g)), __fmul_rn(cb, b));
    } else {
      const double sum = __dadd_rn(__dadd_rn(__dmul_rn(0.2125, unit_float(r)), __dmul_rn(0.7154, unit_float(g))),
                                   __dmul_rn(0.0721, unit_float(b)));
      gray = __double2float_rn(sum);
    }
    store_sample<float>(t.out + y * t.out_stride, x, gray);
  });
}

}  // namespace

void launch_grayscale(const Op& /*op*/, const TilePair& t, DType dtype, const cuda::Stream& stream) {
  visit_filter_dtype(dtype, "grayscale", [&](auto sample) {
    using S = decltype(sample);
    grayscale_kernel<S><<<op_grid(t.out_height, t.out_width), op_threads_per_block, 0, stream.get()>>>(t);
    cuda::check_launch("grayscale_kernel");
  });
}

}  // namespace tilestream::ops::device
