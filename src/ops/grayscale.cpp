// grayscale: RGB -> float32 luminance, skimage.color.rgb2gray's weights and arithmetic (see op.hpp).
#include "ops/pixels.hpp"
#include "ops/op_table.hpp"

namespace tilestream::ops::detail {
namespace {

// T: the type skimage computes in (double for integer samples, float for float32).
template <class T, class S>
float luminance(const std::byte* rgb) {
  T r, g, b;
  if constexpr (std::is_floating_point_v<S>) {
    r = load<S>(rgb), g = load<S>(rgb + sizeof(S)), b = load<S>(rgb + 2 * sizeof(S));
  } else {
    r = unit_float(load<S>(rgb)), g = unit_float(load<S>(rgb + sizeof(S))),
    b = unit_float(load<S>(rgb + 2 * sizeof(S)));
  }
  const T sum = (static_cast<T>(0.2125) * r + static_cast<T>(0.7154) * g) + static_cast<T>(0.0721) * b;
  return static_cast<float>(sum);
}

class Grayscale final : public Op {
 public:
  Grayscale() : Op("grayscale") {}
  std::uint32_t halo() const override { return 0; }
  ImageShape output_shape(const ImageShape& in) const override {
    require(in.samples == 3, concat("needs 3 samples (RGB), not ", in.samples));
    require(is_filter_dtype(in.dtype), filter_dtype_refusal(in.dtype));
    require(in.height > 0 && in.width > 0, "empty input image");
    return {in.height, in.width, 1, DType::float32};
  }
  void run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const override {
    check_tiles(*this, in, in_shape, out);
    visit_filter_dtype(in_shape.dtype, [&](auto sample) {
      using S = decltype(sample);
      using T = std::conditional_t<std::is_floating_point_v<S>, float, double>;
      const std::size_t pixel = 3 * sizeof(S);
      for (std::uint64_t y = 0; y < out.box.height; ++y) {
        const std::byte* src = in.data + y * in.row_stride;
        std::byte* dst = out.data + y * out.row_stride;
        for (std::uint64_t x = 0; x < out.box.width; ++x)
          store<float>(dst + x * sizeof(float), luminance<T, S>(src + x * pixel));
      }
    });
  }
};

}  // namespace

std::unique_ptr<Op> make_grayscale(const OpParams& params) {
  params.allow_only({}, "grayscale");
  return std::make_unique<Grayscale>();
}

}  // namespace tilestream::ops::detail
