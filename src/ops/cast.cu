// cast's CUDA twin: one thread per output pixel, every sample converted as static_cast does on the CPU
// (core/cast.cpp): integers rounded to nearest even (__uint2float_rn / __int2float_rn, which
// static_cast is in device code), float16 through the CPU's own exact conversion. CPU twin: src/ops/cast.cpp.
#include <cstdint>
#include <type_traits>

#include "ops/device_kernels.cuh"
#include "ops/op_table.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/float16.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::ops::device {
namespace {

template <class S>
__device__ float to_float(S value) {
  if constexpr (std::is_same_v<S, Float16>) {
    return value.to_float();
  } else {
    return static_cast<float>(value);
  }
}

template <class S>
__global__ void cast_to_float_kernel(TilePair t) {
  for_each_item(t.out_height, t.out_width, [&](std::uint64_t y, std::uint64_t x) {
    const std::byte* in = t.in + y * t.in_stride;
    std::byte* out = t.out + y * t.out_stride;
    for (std::uint32_t s = 0; s < t.samples; ++s)
      store_sample<float>(out, x * t.samples + s, to_float(load_sample<S>(in, x * t.samples + s)));
  });
}

}  // namespace

void launch_cast(const Op& /*op*/, const TilePair& t, DType dtype, const cuda::Stream& stream) {
  // make_cast offers float32 as the one target; the input may be any sample type.
  const auto launch = [&](auto sample) {
    using S = decltype(sample);
    cast_to_float_kernel<S><<<op_grid(t.out_height, t.out_width), op_threads_per_block, 0, stream.get()>>>(t);
    cuda::check_launch("cast_to_float_kernel");
  };
  switch (dtype) {
    case DType::uint8: return launch(std::uint8_t{});
    case DType::int8: return launch(std::int8_t{});
    case DType::uint16: return launch(std::uint16_t{});
    case DType::int16: return launch(std::int16_t{});
    case DType::uint32: return launch(std::uint32_t{});
    case DType::int32: return launch(std::int32_t{});
    case DType::float16: return launch(Float16{});
    case DType::float32: return launch(float{});
  }
  throw UsageError(concat("cast: no CUDA kernel for ", to_string(dtype), " samples"));
}

}  // namespace tilestream::ops::device
