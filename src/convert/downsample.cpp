// 2x area downsampling (mean of each 2x2 block, partial blocks at odd edges), one template for all
// sample types.
#include "convert/downsample.hpp"

#include <cstring>
#include <type_traits>

#include "tilestream/core/error.hpp"

namespace tilestream::convert {
namespace {

template <class T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Mean of `count` values whose sum is `sum`, rounded half up for integers.
template <class T, class Sum>
T mean(Sum sum, Sum count) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(sum / count);
  } else {
    // floor((2 sum + count) / (2 count)), with floor division for negative sums.
    const Sum num = 2 * sum + count;
    const Sum den = 2 * count;
    Sum q = num / den;
    if (num % den != 0 && num < 0) --q;
    return static_cast<T>(q);
  }
}

template <class T>
void downsample_typed(const std::byte* src, std::size_t src_stride, std::uint64_t height, std::uint64_t width,
                      std::uint32_t samples, std::byte* dst, std::size_t dst_stride) {
  using Sum = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;
  const std::uint64_t out_h = downsampled_size(height), out_w = downsampled_size(width);
  const std::size_t pixel = sizeof(T) * samples;
  for (std::uint64_t oy = 0; oy < out_h; ++oy) {
    const std::uint64_t y0 = 2 * oy;
    const std::uint64_t rows = y0 + 1 < height ? 2 : 1;
    for (std::uint64_t ox = 0; ox < out_w; ++ox) {
      const std::uint64_t x0 = 2 * ox;
      const std::uint64_t cols = x0 + 1 < width ? 2 : 1;
      for (std::uint32_t s = 0; s < samples; ++s) {
        Sum sum = 0;
        for (std::uint64_t dy = 0; dy < rows; ++dy)
          for (std::uint64_t dx = 0; dx < cols; ++dx)
            sum += static_cast<Sum>(load<T>(src + (y0 + dy) * src_stride + (x0 + dx) * pixel + s * sizeof(T)));
        const T value = mean<T, Sum>(sum, static_cast<Sum>(rows * cols));
        std::memcpy(dst + oy * dst_stride + ox * pixel + s * sizeof(T), &value, sizeof(T));
      }
    }
  }
}

}  // namespace

void downsample_2x_rows(const std::byte* src, std::size_t src_stride, std::uint64_t height, std::uint64_t width,
                        std::uint32_t samples, DType dtype, std::byte* dst, std::size_t dst_stride) {
  switch (dtype) {
    case DType::uint8:
      return downsample_typed<std::uint8_t>(src, src_stride, height, width, samples, dst, dst_stride);
    case DType::uint16:
      return downsample_typed<std::uint16_t>(src, src_stride, height, width, samples, dst, dst_stride);
    case DType::int8:
      return downsample_typed<std::int8_t>(src, src_stride, height, width, samples, dst, dst_stride);
    case DType::int16:
      return downsample_typed<std::int16_t>(src, src_stride, height, width, samples, dst, dst_stride);
    case DType::float32:
      return downsample_typed<float>(src, src_stride, height, width, samples, dst, dst_stride);
  }
}

void downsample_2x(std::span<const std::byte> src, std::uint64_t height, std::uint64_t width,
                   std::uint32_t samples, DType dtype, std::span<std::byte> dst) {
  const std::size_t bytes = bytes_per_sample(dtype) * samples;
  check<UsageError>(src.size() == height * width * bytes, "downsample_2x: source has ", src.size(),
                    " bytes, not ", height * width * bytes);
  check<UsageError>(dst.size() == downsampled_size(height) * downsampled_size(width) * bytes,
                    "downsample_2x: destination has ", dst.size(), " bytes, not ",
                    downsampled_size(height) * downsampled_size(width) * bytes);
  downsample_2x_rows(src.data(), width * bytes, height, width, samples, dtype, dst.data(),
                     downsampled_size(width) * bytes);
}

}  // namespace tilestream::convert
