// hed's CUDA twin: one thread per output pixel, rgb2hed in the CPU's precision and order, with the
// CPU's constants and its uint8 table (src/ops/hed.hpp). CPU twin: src/ops/hed.cpp.
#include <array>
#include <cstdint>
#include <type_traits>

#include "ops/device_kernels.cuh"
#include "ops/hed.hpp"
#include "ops/op_table.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::ops::device {
namespace {

// Passed by value (about 2 KiB of kernel parameters); uint8 kernels copy the table to shared memory
// in each block, so no device copy has to be made or kept per device.
struct HedConstants {
  double matrix[3][3];        // detail::hed_from_rgb
  double log_adjust;          // detail::hed_log_adjust
  double floor;               // detail::hed_floor
  float floor_float32;        // detail::hed_floor_float32
  double density_uint8[256];  // detail::hed_density_uint8()
};

// The sample's optical density as the CPU computes it: the table for uint8; for uint16 the double
// log of img_as_float; for float32 the double log rounded to float32, divided in double. CUDA's log
// and std::log are each within 1 ulp of the true value (op.hpp says what that means for equality).
template <class S>
__device__ double density(S value, const HedConstants& c, const double* uint8_densities) {
  if constexpr (std::is_same_v<S, std::uint8_t>) {
    return uint8_densities[value];
  } else if constexpr (std::is_floating_point_v<S>) {
    const float x = value < c.floor_float32 ? c.floor_float32 : value;  // NaN passes, as on the CPU
    return __ddiv_rn(static_cast<double>(__double2float_rn(log(static_cast<double>(x)))), c.log_adjust);
  } else {
    const double x = unit_float(value);
    return __ddiv_rn(log(x < c.floor ? c.floor : x), c.log_adjust);
  }
}

template <class S>
__global__ void hed_kernel(TilePair t, HedConstants c) {
  __shared__ double uint8_densities[256];
  if constexpr (std::is_same_v<S, std::uint8_t>) {
    for (unsigned i = threadIdx.x; i < 256; i += blockDim.x) uint8_densities[i] = c.density_uint8[i];
    __syncthreads();
  }
  for_each_item(t.out_height, t.out_width, [&](std::uint64_t y, std::uint64_t x) {
    const std::byte* row = t.in + y * t.in_stride;
    const double r = density(load_sample<S>(row, 3 * x), c, uint8_densities);
    const double g = density(load_sample<S>(row, 3 * x + 1), c, uint8_densities);
    const double b = density(load_sample<S>(row, 3 * x + 2), c, uint8_densities);
    std::byte* out = t.out + y * t.out_stride;
    for (int j = 0; j < 3; ++j) {
      const double stain = __dadd_rn(__dadd_rn(__dmul_rn(r, c.matrix[0][j]), __dmul_rn(g, c.matrix[1][j])),
                                     __dmul_rn(b, c.matrix[2][j]));
      const double clipped = stain <= 0.0 ? 0.0 : stain;  // np.maximum(stain, 0), as on the CPU
      store_sample<float>(out, 3 * x + j, __double2float_rn(clipped));
    }
  });
}

}  // namespace

void launch_hed(const Op& /*op*/, const TilePair& t, DType dtype, const cuda::Stream& stream) {
  HedConstants c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) c.matrix[i][j] = detail::hed_from_rgb[i][j];
  c.log_adjust = detail::hed_log_adjust;
  c.floor = detail::hed_floor;
  c.floor_float32 = detail::hed_floor_float32;
  const std::array<double, 256>& densities = detail::hed_density_uint8();
  for (std::size_t i = 0; i < densities.size(); ++i) c.density_uint8[i] = densities[i];
  visit_filter_dtype(dtype, "hed", [&](auto sample) {
    using S = decltype(sample);
    hed_kernel<S><<<op_grid(t.out_height, t.out_width), op_threads_per_block, 0, stream.get()>>>(t, c);
    cuda::check_launch("hed_kernel");
  });
}

}  // namespace tilestream::ops::device
