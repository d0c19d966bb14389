// absorbance's CUDA twin: one thread per output sample, through the CPU's own table. CPU twin:
// src/ops/absorbance.cpp.
#include <array>
#include <cstdint>

#include "ops/device_kernels.cuh"
#include "ops/op_table.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/stream.hpp"
#include "tilestream/ops/op.hpp"

namespace tilestream::ops::device {
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

}  // namespace

void launch_absorbance(const Op& /*op*/, const TilePair& t, DType /*dtype*/, const cuda::Stream& stream) {
  AbsorbanceTable table{};
  const std::array<float, 256>& lut = absorbance_lut();
  for (std::size_t i = 0; i < lut.size(); ++i) table.value[i] = lut[i];
  absorbance_kernel<<<op_grid(t.out_height, t.out_width * t.samples), op_threads_per_block, 0, stream.get()>>>(
      t, table);
  cuda::check_launch("absorbance_kernel");
}

}  // namespace tilestream::ops::device
