// downsample2x: the 2x2 area mean (partial blocks at odd edges), one template for all sample types. The
// one implementation of the rule: `convert` builds the pyramid levels a slide does not store with this op.
#include <cstring>
#include <type_traits>

#include "ops/op_table.hpp"
#include "ops/pixels.hpp"

namespace tilestream::ops::detail {
namespace {

template <class T>
constexpr bool is_float_sample = std::is_floating_point_v<T> || std::is_same_v<T, Float16>;

// A sample as the sum accumulates it: floats (float16 exactly) in double, integers in int64.
template <class T, class Sum>
Sum sum_term(T value) {
  if constexpr (std::is_same_v<T, Float16>) {
    return static_cast<Sum>(value.to_float());
  } else {
    return static_cast<Sum>(value);
  }
}

// Mean of `count` values whose sum is `sum`, rounded half up for integers, to nearest (ties to
// even) for floats.
template <class T, class Sum>
T mean(Sum sum, Sum count) {
  if constexpr (std::is_same_v<T, Float16>) {
    return Float16::from_double(sum / count);
  } else if constexpr (std::is_floating_point_v<T>) {
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
  using Sum = std::conditional_t<is_float_sample<T>, double, std::int64_t>;
  const std::uint64_t out_h = (height + 1) / 2, out_w = (width + 1) / 2;
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
            sum += sum_term<T, Sum>(load<T>(src + (y0 + dy) * src_stride + (x0 + dx) * pixel + s * sizeof(T)));
        const T value = mean<T, Sum>(sum, static_cast<Sum>(rows * cols));
        std::memcpy(dst + oy * dst_stride + ox * pixel + s * sizeof(T), &value, sizeof(T));
      }
    }
  }
}

// Source rows `src_stride` bytes apart, destination rows `dst_stride` bytes apart; the output is
// ceil(height / 2) x ceil(width / 2).
void downsample_rows(const std::byte* src, std::size_t src_stride, std::uint64_t height, std::uint64_t width,
                        std::uint32_t samples, DType dtype, std::byte* dst, std::size_t dst_stride) {
  visit_dtype(dtype, [&](auto sample) {
    downsample_typed<decltype(sample)>(src, src_stride, height, width, samples, dst, dst_stride);
  });
}


class Downsample2x final : public Op {
 public:
  Downsample2x() : Op("downsample2x") {}
  std::uint32_t halo() const override { return 0; }
  ImageShape output_shape(const ImageShape& in) const override {
    require(in.height > 0 && in.width > 0 && in.samples > 0, "empty input image");
    return {(in.height + 1) / 2, (in.width + 1) / 2, in.samples, in.dtype};
  }
  Box input_box(const Box& out, const ImageShape& in) const override {
    const std::uint64_t y = std::min(2 * out.y, in.height), x = std::min(2 * out.x, in.width);
    return {y, x, std::min(2 * out.height, in.height - y), std::min(2 * out.width, in.width - x)};
  }
  void run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const override {
    check_tiles(*this, in, in_shape, out);
    downsample_rows(in.data, in.row_stride, in.box.height, in.box.width, in_shape.samples, in_shape.dtype,
                    out.data, out.row_stride);
  }
};

}  // namespace

std::unique_ptr<Op> make_downsample2x(const OpParams& params) {
  params.allow_only({}, "downsample2x");
  return std::make_unique<Downsample2x>();
}

}  // namespace tilestream::ops::detail
