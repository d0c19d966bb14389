// gaussian's CUDA twin: a y pass from the input tile into a band of the output's rows and the input
// tile's columns (in T: double for integer samples, float for float32, as the CPU stores it), then an
// x pass from the band into the output, one thread per sample each, with scipy's symmetric
// correlate1d sum in the CPU's order and rounding. CPU twin: src/ops/gaussian.cpp.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "ops/device_kernels.cuh"
#include "ops/gaussian.hpp"
#include "ops/op_table.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::ops::device {
namespace {

// sigma <= 100 gives a radius of at most 400 (gaussian_radius).
constexpr std::uint32_t max_radius = 400;

// The weights w[0..radius], passed by value (3.2 KiB at most, within the 4 KiB of kernel parameters)
// and copied to shared memory by each block.
struct Weights {
  double w[max_radius + 1];
  std::uint32_t radius;
};

__device__ void load_weights(const Weights& weights, double* shared) {
  for (unsigned d = threadIdx.x; d <= weights.radius; d += blockDim.x) shared[d] = weights.w[d];
  __syncthreads();
}

// acc = v(0) * w[0]; for d = r down to 1: acc += (v(-d) + v(+d)) * w[d], every step rounded.
template <class V>
__device__ double correlate(const double* w, std::uint32_t radius, V&& v) {
  double acc = __dmul_rn(v(0), w[0]);
  for (auto d = static_cast<std::int64_t>(radius); d >= 1; --d) {
    acc = __dadd_rn(acc, __dmul_rn(__dadd_rn(v(-d), v(d)), w[d]));
  }
  return acc;
}

// band[y][i] for the output's rows y and every sample i of the input tile's rows.
template <class S, class T>
__global__ void gaussian_y_kernel(TilePair t, Weights weights, T* band) {
  extern __shared__ double w[];
  load_weights(weights, w);
  const std::uint64_t band_row = t.in_width * t.samples;
  for_each_item(t.out_height, band_row, [&](std::uint64_t y, std::uint64_t i) {
    const auto oy = static_cast<std::int64_t>(t.out_y + y);
    const double acc = correlate(w, weights.radius, [&](std::int64_t d) {
      const std::byte* row = t.in + clamped(oy + d, t.image_height, t.in_y) * t.in_stride;
      return filter_value(load_sample<S>(row, i));
    });
    band[y * band_row + i] = static_cast<T>(acc);
  });
}

// img_as_ubyte / img_as_uint of a double in [0, 1]: rint(g * M) (half to even), clamped to [0, M].
template <class S>
__device__ S to_sample(double g) {
  if constexpr (std::is_floating_point_v<S>) {
    return static_cast<S>(g);
  } else {
    return static_cast<S>(fmin(fmax(rint(__dmul_rn(g, sample_max<S>)), 0.0), sample_max<S>));
  }
}

template <class S, class T>
__global__ void gaussian_x_kernel(TilePair t, Weights weights, const T* band) {
  extern __shared__ double w[];
  load_weights(weights, w);
  const std::uint32_t samples = t.samples;
  const std::uint64_t band_row = t.in_width * samples;
  for_each_item(t.out_height, t.out_width * samples, [&](std::uint64_t y, std::uint64_t i) {
    const std::uint64_t x = i / samples, c = i % samples;
    const auto ox = static_cast<std::int64_t>(t.out_x + x);
    const T* row = band + y * band_row;
    const double acc = correlate(w, weights.radius, [&](std::int64_t d) {
      return static_cast<double>(row[clamped(ox + d, t.image_width, t.in_x) * samples + c]);
    });
    // The CPU rounds the sum to T first: for float32 that is the output, for integers T is double.
    store_sample<S>(t.out + y * t.out_stride, i, to_sample<S>(static_cast<T>(acc)));
  });
}

}  // namespace

void launch_gaussian(const Op& op, const TilePair& t, DType dtype, const cuda::Stream& stream) {
  const detail::Gaussian& gaussian = detail::op_as<detail::Gaussian>(op);
  const std::vector<double>& w = gaussian.weights();
  const double sigma = gaussian.sigma();
  check<UsageError>(!w.empty() && w.size() <= max_radius + 1, "gaussian: sigma ", sigma, " gives radius ",
                    w.size() - 1, ", more than the ", max_radius, " the CUDA kernels take");
  Weights weights{};
  weights.radius = static_cast<std::uint32_t>(w.size() - 1);
  for (std::size_t d = 0; d < w.size(); ++d) weights.w[d] = w[d];
  const std::size_t shared_bytes = w.size() * sizeof(double);
  visit_filter_dtype(dtype, "gaussian", [&](auto sample) {
    using S = decltype(sample);
    using T = std::conditional_t<std::is_floating_point_v<S>, float, double>;
    const std::uint64_t band_row = t.in_width * t.samples;
    cuda::DeviceBuffer band(t.out_height * band_row * sizeof(T), stream);
    auto* band_data = reinterpret_cast<T*>(band.data());
    gaussian_y_kernel<S, T><<<op_grid(t.out_height, band_row), op_threads_per_block, shared_bytes, stream.get()>>>(
        t, weights, band_data);
    cuda::check_launch("gaussian_y_kernel");
    gaussian_x_kernel<S, T>
        <<<op_grid(t.out_height, t.out_width * t.samples), op_threads_per_block, shared_bytes, stream.get()>>>(
            t, weights, band_data);
    cuda::check_launch("gaussian_x_kernel");
    // `band` is freed stream-ordered, after the x pass.
  });
}

}  // namespace tilestream::ops::device
