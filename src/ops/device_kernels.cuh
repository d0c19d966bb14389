// Device helpers every op kernel (src/ops/<op>.cu) uses: typed sample access, skimage's img_as_float,
// the 'nearest' border clamp, the launch shape. Arithmetic that must match the CPU ops is written
// with explicitly rounded intrinsics (__dmul_rn, __dadd_rn, ...), which nvcc never fuses into FMAs;
// the ops' .cu files are also compiled with -fmad=false (CMakeLists.txt).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ops/device_tiles.hpp"
#include "tilestream/core/dtype.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::ops::device {

inline constexpr unsigned op_threads_per_block = 128;
inline constexpr std::uint64_t max_grid_x = 1u << 20;  // grid-stride loops cover the rest
inline constexpr std::uint64_t max_grid_y = 65535;

// Blocks for a 2-d grid-stride loop over `rows` rows of `row_items` items each.
inline dim3 op_grid(std::uint64_t rows, std::uint64_t row_items) {
  const std::uint64_t x = (row_items + op_threads_per_block - 1) / op_threads_per_block;
  return dim3(static_cast<unsigned>(std::clamp<std::uint64_t>(x, 1, max_grid_x)),
              static_cast<unsigned>(std::clamp<std::uint64_t>(rows, 1, max_grid_y)));
}

// Calls f(row, item) for every row < rows and item < row_items, spread over the grid.
template <class F>
__device__ void for_each_item(std::uint64_t rows, std::uint64_t row_items, F&& f) {
  for (std::uint64_t row = blockIdx.y; row < rows; row += gridDim.y) {
    for (std::uint64_t item = blockIdx.x * std::uint64_t{blockDim.x} + threadIdx.x; item < row_items;
         item += std::uint64_t{gridDim.x} * blockDim.x) {
      f(row, item);
    }
  }
}

// Sample `index` of a row (views are aligned to the sample size: run_op checks it).
template <class S>
__device__ S load_sample(const std::byte* row, std::uint64_t index) {
  return reinterpret_cast<const S*>(row)[index];
}
template <class S>
__device__ void store_sample(std::byte* row, std::uint64_t index, S value) {
  reinterpret_cast<S*>(row)[index] = value;
}

// The largest value M of an integer sample type, as a double (a compile-time constant).
template <class S>
inline constexpr double sample_max = static_cast<double>(std::numeric_limits<S>::max());

// skimage's img_as_float of an unsigned integer sample, as detail::unit_float (src/ops/pixels.hpp): I * (1.0 / M),
// the reciprocal rounded once (at compile time) and the product rounded to double.
template <class S>
inline constexpr double sample_unit = 1.0 / sample_max<S>;

template <class S>
__device__ double unit_float(S value) {
  return __dmul_rn(static_cast<double>(value), sample_unit<S>);
}

// A sample as the double the CPU ops filter in: img_as_float for unsigned integers, the value itself
// (exactly) for float32.
template <class S>
__device__ double filter_value(S value) {
  if constexpr (std::is_floating_point_v<S>) {
    return static_cast<double>(value);
  } else {
    return unit_float(value);
  }
}

// Image index `index` clamped to [0, extent - 1] (the 'nearest' border), then made relative to a
// tile starting at `first`.
__device__ inline std::uint64_t clamped(std::int64_t index, std::uint64_t extent, std::uint64_t first) {
  const std::int64_t last = static_cast<std::int64_t>(extent) - 1;
  const std::int64_t i = index < 0 ? 0 : (index > last ? last : index);
  return static_cast<std::uint64_t>(i) - first;
}

// Calls f(S{}) with S the sample type of `dtype`, one of the unsigned or float types that the filters
// (sobel, gaussian, grayscale) take: their kernels are only instantiated for those.
template <class F>
void visit_filter_dtype(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::uint8: f(std::uint8_t{}); return;
    case DType::uint16: f(std::uint16_t{}); return;
    case DType::float32: f(float{}); return;
    default: break;
  }
  throw UsageError(concat(op, ": no CUDA kernel for ", to_string(dtype), " samples"));
}

}  // namespace tilestream::ops::device
