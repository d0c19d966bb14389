// Kernels of the ops without halo, one thread per output sample: absorbance (through the CPU's own
// table) and grayscale (rgb2gray in the CPU's precision and order). CPU twins: src/ops/absorbance.cpp,
// src/ops/grayscale.cpp.
#include <cstdint>
#include <type_traits>

#include "cuda/ops_device.cuh"
#include "tilestream/cuda/error.hpp"
#include "tilestream/ops/op.hpp"

namespace tilestream::cuda::detail {
namespace {

// Passed by value (1 KiB of kernel parameters) and copied to shared memory by each block, so no
// device copy of the table has to be made or kept per device.
struct AbsorbanceTable {
  float value[256];
};

__global__ void absorbance_kernel(TilePair t, AbsorbanceTable table) {
  __shared__ float lut[256];
  for (unsigned i = threadIdx.x; i < 256; i += blockDim.x) lut[i] = table.value[i];
  __syncthreads();
  for_each_item(t.out_height, t.out_width * t.samples, [&](std::uint64_t y, std::uint64_t i) {
    const auto sample = load_sample<std::uint8_t>(t.in + y * t.in_stride, i);
    store_sample<float>(t.out + y * t.out_stride, i, lut[sample]);
  });
}

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

void launch_absorbance(const TilePair& t, const Stream& stream) {
  AbsorbanceTable table{};
  const std::array<float, 256>& lut = ops::absorbance_lut();
  for (std::size_t i = 0; i < lut.size(); ++i) table.value[i] = lut[i];
  absorbance_kernel<<<op_grid(t.out_height, t.out_width * t.samples), op_threads_per_block, 0, stream.get()>>>(
      t, table);
  check_launch("absorbance_kernel");
}

void launch_grayscale(const TilePair& t, DType dtype, const Stream& stream) {
  visit_filter_dtype(dtype, "grayscale", [&](auto sample) {
    using S = decltype(sample);
    grayscale_kernel<S><<<op_grid(t.out_height, t.out_width), op_threads_per_block, 0, stream.get()>>>(t);
    check_launch("grayscale_kernel");
  });
}

}  // namespace tilestream::cuda::detail
