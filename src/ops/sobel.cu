// sobel's CUDA twin: one thread per output sample reading its 3x3 neighbourhood (clamped to the whole
// image), with the CPU's sums in the CPU's order and rounding. CPU twin: src/ops/sobel.cpp.
#include <cstdint>
#include <type_traits>

#include "ops/device_kernels.cuh"
#include "ops/op_table.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::ops::device {
namespace {

// T: double for integer samples, float for float32 (the precision of gy, gx and the magnitude).
template <class T>
__device__ T magnitude(double gy_d, double gx_d) {
  if constexpr (std::is_same_v<T, double>) {
    const double sum = __dadd_rn(__dmul_rn(gy_d, gy_d), __dmul_rn(gx_d, gx_d));
    return __ddiv_rn(__dsqrt_rn(sum), __dsqrt_rn(2.0));
  } else {
    const float gy = __double2float_rn(gy_d), gx = __double2float_rn(gx_d);
    const float sum = __fadd_rn(__fmul_rn(gy, gy), __fmul_rn(gx, gx));
    return __fdiv_rn(__fsqrt_rn(sum), __fsqrt_rn(2.0f));
  }
}

template <class S>
__global__ void sobel_kernel(TilePair t) {
  using T = std::conditional_t<std::is_floating_point_v<S>, float, double>;
  const std::uint32_t samples = t.samples;
  for_each_item(t.out_height, t.out_width * samples, [&](std::uint64_t y, std::uint64_t i) {
    const std::uint64_t x = i / samples, c = i % samples;
    const auto oy = static_cast<std::int64_t>(t.out_y + y), ox = static_cast<std::int64_t>(t.out_x + x);
    const std::byte* up = t.in + clamped(oy - 1, t.image_height, t.in_y) * t.in_stride;
    const std::byte* mid = t.in + clamped(oy, t.image_height, t.in_y) * t.in_stride;
    const std::byte* down = t.in + clamped(oy + 1, t.image_height, t.in_y) * t.in_stride;
    const std::uint64_t left = clamped(ox - 1, t.image_width, t.in_x) * samples + c;
    const std::uint64_t centre = clamped(ox, t.image_width, t.in_x) * samples + c;
    const std::uint64_t right = clamped(ox + 1, t.image_width, t.in_x) * samples + c;
    const auto a = [](const std::byte* row, std::uint64_t index) { return filter_value(load_sample<S>(row, index)); };
    double gy_d = 0.0;
    gy_d = __dadd_rn(gy_d, __dmul_rn(-0.25, a(up, left)));
    gy_d = __dadd_rn(gy_d, __dmul_rn(-0.5, a(up, centre)));
    gy_d = __dadd_rn(gy_d, __dmul_rn(-0.25, a(up, right)));
    gy_d = __dadd_rn(gy_d, __dmul_rn(0.25, a(down, left)));
    gy_d = __dadd_rn(gy_d, __dmul_rn(0.5, a(down, centre)));
    gy_d = __dadd_rn(gy_d, __dmul_rn(0.25, a(down, right)));
    double gx_d = 0.0;
    gx_d = __dadd_rn(gx_d, __dmul_rn(-0.25, a(up, left)));
    gx_d = __dadd_rn(gx_d, __dmul_rn(0.25, a(up, right)));
    gx_d = __dadd_rn(gx_d, __dmul_rn(-0.5, a(mid, left)));
    gx_d = __dadd_rn(gx_d, __dmul_rn(0.5, a(mid, right)));
    gx_d = __dadd_rn(gx_d, __dmul_rn(-0.25, a(down, left)));
    gx_d = __dadd_rn(gx_d, __dmul_rn(0.25, a(down, right)));
    store_sample<float>(t.out + y * t.out_stride, i, static_cast<float>(magnitude<T>(gy_d, gx_d)));
  });
}

}  // namespace

void launch_sobel(const Op& /*op*/, const TilePair& t, DType dtype, const cuda::Stream& stream) {
  visit_filter_dtype(dtype, "sobel", [&](auto sample) {
    using S = decltype(sample);
    sobel_kernel<S><<<op_grid(t.out_height, t.out_width * t.samples), op_threads_per_block, 0, stream.get()>>>(t);
    cuda::check_launch("sobel_kernel");
  });
}

}  // namespace tilestream::ops::device
