// sobel: edge magnitude per channel, skimage.filters.sobel's arithmetic in its order (see op.hpp).
#include <cmath>

#include "ops/pixels.hpp"
#include "ops/op_table.hpp"

namespace tilestream::ops::detail {
namespace {

template <class S>
double sample_value(const std::byte* p) {
  if constexpr (std::is_floating_point_v<S>) {
    return static_cast<double>(load<S>(p));
  } else {
    return unit_float(load<S>(p));
  }
}

class Sobel final : public Op {
 public:
  Sobel() : Op("sobel") {}
  std::uint32_t halo() const override { return 1; }
  ImageShape output_shape(const ImageShape& in) const override {
    require(is_filter_dtype(in.dtype), filter_dtype_refusal(in.dtype));
    require(in.height > 0 && in.width > 0 && in.samples > 0, "empty input image");
    return {in.height, in.width, in.samples, DType::float32};
  }
  void run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const override {
    check_tiles(*this, in, in_shape, out);
    visit_filter_dtype(in_shape.dtype, [&](auto sample) { run<decltype(sample)>(in, in_shape, out); });
  }

 private:
  template <class S>
  static void run(const ConstTileView& in, const ImageShape& shape, const TileView& out) {
    using T = std::conditional_t<std::is_floating_point_v<S>, float, double>;
    const std::uint32_t samples = shape.samples;
    const std::size_t pixel = samples * sizeof(S);
    const Box& o = out.box;
    // Rows o.y-1 .. o.y+h and columns o.x-1 .. o.x+w, clamped to the image (reflect == nearest at radius 1).
    const std::vector<std::size_t> rows = clamped_offsets(static_cast<std::int64_t>(o.y) - 1, o.height + 2,
                                                          shape.height, in.box.y, in.row_stride);
    const std::vector<std::size_t> cols =
        clamped_offsets(static_cast<std::int64_t>(o.x) - 1, o.width + 2, shape.width, in.box.x, pixel);
    const T root2 = std::sqrt(static_cast<T>(2));
    for (std::uint64_t y = 0; y < o.height; ++y) {
      const std::byte* up = in.data + rows[y];
      const std::byte* mid = in.data + rows[y + 1];
      const std::byte* down = in.data + rows[y + 2];
      auto* dst = out.data + y * out.row_stride;
      for (std::uint64_t x = 0; x < o.width; ++x) {
        const std::size_t left = cols[x], centre = cols[x + 1], right = cols[x + 2];
        for (std::uint32_t c = 0; c < samples; ++c) {
          const std::size_t s = c * sizeof(S);
          const auto a = [&](const std::byte* row, std::size_t col) {
            return sample_value<S>(row + col + s);
          };
          double gy_d = 0.0;
          gy_d += -0.25 * a(up, left);
          gy_d += -0.5 * a(up, centre);
          gy_d += -0.25 * a(up, right);
          gy_d += 0.25 * a(down, left);
          gy_d += 0.5 * a(down, centre);
          gy_d += 0.25 * a(down, right);
          double gx_d = 0.0;
          gx_d += -0.25 * a(up, left);
          gx_d += 0.25 * a(up, right);
          gx_d += -0.5 * a(mid, left);
          gx_d += 0.5 * a(mid, right);
          gx_d += -0.25 * a(down, left);
          gx_d += 0.25 * a(down, right);
          const T gy = static_cast<T>(gy_d), gx = static_cast<T>(gx_d);
          T sum = gy * gy;
          sum += gx * gx;
          store<float>(dst + (x * samples + c) * sizeof(float), static_cast<float>(std::sqrt(sum) / root2));
        }
      }
    }
  }
};

}  // namespace

std::unique_ptr<Op> make_sobel(const OpParams& params) {
  params.allow_only({}, "sobel");
  return std::make_unique<Sobel>();
}

}  // namespace tilestream::ops::detail
