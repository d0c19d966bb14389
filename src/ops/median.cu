// median's CUDA twin: one thread per output sample, selecting the sample of rank K*K/2 of its K x K
// window (clamped to the whole image) by a radix select on order-preserving unsigned keys, one bit
// at a time from the top: no sorting, no per-thread array for large K, exact for every dtype. Small
// windows (K = 3, 5, 7) gather their keys into registers once; larger ones read the window again per
// bit (from cache). CPU twin: src/ops/median.cpp (std::nth_element).
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ops/device_kernels.cuh"
#include "ops/median.hpp"
#include "ops/op_table.hpp"
#include "ops/pixels.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::ops::device {
namespace {

// The unsigned key of a sample and back: key order is the samples' order (float32 and float16: -NaN <
// -inf < ... < -0 < +0 < ... < +inf < +NaN, the IEEE total order; the CPU orders float16 so too).
template <class S>
using KeyOf = std::conditional_t<sizeof(S) == 1, std::uint8_t,
                                 std::conditional_t<sizeof(S) == 2, std::uint16_t, std::uint32_t>>;

template <class S>
__device__ KeyOf<S> to_key(S value) {
  using K = KeyOf<S>;
  if constexpr (std::is_same_v<S, float>) {
    const std::uint32_t bits = __float_as_uint(value);
    return (bits & 0x80000000u) != 0 ? ~bits : (bits | 0x80000000u);
  } else if constexpr (std::is_same_v<S, Float16>) {
    return value.order_key();
  } else if constexpr (std::is_signed_v<S>) {
    return static_cast<K>(static_cast<K>(value) ^ static_cast<K>(K{1} << (8 * sizeof(S) - 1)));
  } else {
    return value;
  }
}

template <class S>
__device__ S from_key(KeyOf<S> key) {
  using K = KeyOf<S>;
  if constexpr (std::is_same_v<S, float>) {
    return __uint_as_float((key & 0x80000000u) != 0 ? (key & 0x7fffffffu) : ~key);
  } else if constexpr (std::is_same_v<S, Float16>) {
    return Float16{static_cast<std::uint16_t>((key & 0x8000u) != 0 ? (key & 0x7fffu) : ~key)};
  } else if constexpr (std::is_signed_v<S>) {
    return static_cast<S>(static_cast<K>(key ^ static_cast<K>(K{1} << (8 * sizeof(S) - 1))));
  } else {
    return key;
  }
}

// The key of rank `rank` (0-based, ascending) in the window, chosen bit by bit from the top:
// count_zeros(prefix, mask, one) counts the window's keys whose bits under `mask` equal `prefix` (the
// bits chosen so far) and whose bit `one` is 0; if `rank` falls among them the bit is 0, else it is 1
// and they are skipped.
template <class K, class Count>
__device__ K radix_select(std::uint32_t rank, Count&& count_zeros) {
  K prefix = 0, mask = 0;
  for (int bit = 8 * static_cast<int>(sizeof(K)) - 1; bit >= 0; --bit) {
    const auto one = static_cast<K>(K{1} << bit);
    const std::uint32_t zeros = count_zeros(prefix, mask, one);
    if (rank >= zeros) {
      rank -= zeros;
      prefix = static_cast<K>(prefix | one);
    }
    mask = static_cast<K>(mask | one);
  }
  return prefix;
}

// Window size known at compile time (Size > 0): keys gathered into registers once. Size == 0: any K,
// keys re-read from the tile for every bit.
template <class S, int Size>
__global__ void median_kernel(TilePair t, std::uint32_t k) {
  using K = KeyOf<S>;
  const std::uint32_t size = Size > 0 ? static_cast<std::uint32_t>(Size) : k;
  const auto r = static_cast<std::int64_t>(size / 2);
  const std::uint32_t rank = size * size / 2;
  const std::uint32_t samples = t.samples;
  for_each_item(t.out_height, t.out_width * samples, [&](std::uint64_t y, std::uint64_t i) {
    const std::uint64_t x = i / samples, c = i % samples;
    const auto oy = static_cast<std::int64_t>(t.out_y + y), ox = static_cast<std::int64_t>(t.out_x + x);
    const auto key_at = [&](std::int64_t dy, std::int64_t dx) {
      const std::byte* row = t.in + clamped(oy + dy, t.image_height, t.in_y) * t.in_stride;
      return to_key(load_sample<S>(row, clamped(ox + dx, t.image_width, t.in_x) * samples + c));
    };
    K median;
    if constexpr (Size > 0) {
      K keys[Size * Size];
#pragma unroll
      for (int dy = 0; dy < Size; ++dy) {
#pragma unroll
        for (int dx = 0; dx < Size; ++dx) keys[dy * Size + dx] = key_at(dy - r, dx - r);
      }
      median = radix_select<K>(rank, [&](K prefix, K mask, K one) {
        std::uint32_t zeros = 0;
#pragma unroll
        for (int j = 0; j < Size * Size; ++j) zeros += ((keys[j] & mask) == prefix && (keys[j] & one) == 0) ? 1 : 0;
        return zeros;
      });
    } else {
      median = radix_select<K>(rank, [&](K prefix, K mask, K one) {
        std::uint32_t zeros = 0;
        for (std::int64_t dy = -r; dy <= r; ++dy) {
          for (std::int64_t dx = -r; dx <= r; ++dx) {
            const K key = key_at(dy, dx);
            zeros += ((key & mask) == prefix && (key & one) == 0) ? 1 : 0;
          }
        }
        return zeros;
      });
    }
    store_sample<S>(t.out + y * t.out_stride, i, from_key<S>(median));
  });
}

template <class S, int Size>
void launch(const TilePair& t, std::uint32_t size, const cuda::Stream& stream) {
  median_kernel<S, Size><<<op_grid(t.out_height, t.out_width * t.samples), op_threads_per_block, 0, stream.get()>>>(
      t, size);
  cuda::check_launch("median_kernel");
}

}  // namespace

void launch_median(const Op& op, const TilePair& t, DType dtype, const cuda::Stream& stream) {
  const std::uint32_t size = detail::op_as<detail::Median>(op).size();
  detail::visit_dtype(dtype, [&](auto sample) {
    using S = decltype(sample);
    switch (size) {
      case 3: launch<S, 3>(t, size, stream); break;
      case 5: launch<S, 5>(t, size, stream); break;
      case 7: launch<S, 7>(t, size, stream); break;
      default: launch<S, 0>(t, size, stream); break;
    }
  });
}

}  // namespace tilestream::ops::device
