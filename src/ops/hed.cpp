// hed: RGB -> float32 haematoxylin, eosin and DAB optical densities, skimage.color.rgb2hed's
// arithmetic (see op.hpp); its constants are in src/ops/hed.hpp.
#include "ops/hed.hpp"

#include <cmath>
#include <type_traits>

#include "ops/op_table.hpp"
#include "ops/pixels.hpp"

namespace tilestream::ops::detail {
namespace {

// skimage's od = log(max(x, 1e-6)) / log_adjust of an integer sample's img_as_float x, in double.
double density_of_unit(double x) { return std::log(x < hed_floor ? hed_floor : x) / hed_log_adjust; }

// The same for a float32 sample v: skimage takes the log in float32 (here the double log rounded to
// float32) and divides in double. NaN passes through the floor, as through np.maximum.
double density_of_float32(float v) {
  const float x = v < hed_floor_float32 ? hed_floor_float32 : v;
  return static_cast<double>(static_cast<float>(std::log(static_cast<double>(x)))) / hed_log_adjust;
}

template <class S>
double density(S value, const std::array<double, 256>& uint8_densities) {
  if constexpr (std::is_same_v<S, std::uint8_t>) {
    return uint8_densities[value];
  } else if constexpr (std::is_floating_point_v<S>) {
    return density_of_float32(value);
  } else {
    return density_of_unit(unit_float(value));
  }
}

class Hed final : public Op {
 public:
  Hed() : Op("hed") {}
  std::uint32_t halo() const override { return 0; }
  ImageShape output_shape(const ImageShape& in) const override {
    require(in.samples == 3, concat("needs 3 samples (RGB), not ", in.samples));
    require(is_filter_dtype(in.dtype), filter_dtype_refusal(in.dtype));
    require(in.height > 0 && in.width > 0, "empty input image");
    return {in.height, in.width, 3, DType::float32};
  }
  void run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const override {
    check_tiles(*this, in, in_shape, out);
    const std::array<double, 256>& uint8_densities = hed_density_uint8();
    visit_filter_dtype(in_shape.dtype, [&](auto sample) {
      using S = decltype(sample);
      const std::size_t pixel = 3 * sizeof(S);
      for (std::uint64_t y = 0; y < out.box.height; ++y) {
        const std::byte* src = in.data + y * in.row_stride;
        std::byte* dst = out.data + y * out.row_stride;
        for (std::uint64_t x = 0; x < out.box.width; ++x) {
          const std::byte* rgb = src + x * pixel;
          const double r = density(load<S>(rgb), uint8_densities);
          const double g = density(load<S>(rgb + sizeof(S)), uint8_densities);
          const double b = density(load<S>(rgb + 2 * sizeof(S)), uint8_densities);
          for (std::size_t j = 0; j < 3; ++j) {
            const double stain = (r * hed_from_rgb[0][j] + g * hed_from_rgb[1][j]) + b * hed_from_rgb[2][j];
            // np.maximum(stain, 0): NaN stays NaN, -0.0 becomes +0.0.
            const double clipped = stain <= 0.0 ? 0.0 : stain;
            store<float>(dst + (3 * x + j) * sizeof(float), static_cast<float>(clipped));
          }
        }
      }
    });
  }
};

}  // namespace

const std::array<double, 256>& hed_density_uint8() {
  static const std::array<double, 256> table = [] {
    std::array<double, 256> densities{};
    for (std::size_t i = 0; i < densities.size(); ++i)
      densities[i] = density_of_unit(unit_float(static_cast<std::uint8_t>(i)));
    return densities;
  }();
  return table;
}

std::unique_ptr<Op> make_hed(const OpParams& params) {
  params.allow_only({}, "hed");
  return std::make_unique<Hed>();
}

}  // namespace tilestream::ops::detail
