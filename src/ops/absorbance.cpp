// absorbance: uint8 -> float32 optical density through absorbance_lut() (see op.hpp).
#include "ops/pixels.hpp"
#include "ops/op_table.hpp"

namespace tilestream::ops::detail {
namespace {

class Absorbance final : public Op {
 public:
  Absorbance() : Op("absorbance") {}
  std::uint32_t halo() const override { return 0; }
  ImageShape output_shape(const ImageShape& in) const override {
    require(in.dtype == DType::uint8, concat("needs uint8 samples, not ", to_string(in.dtype)));
    require(in.height > 0 && in.width > 0 && in.samples > 0, "empty input image");
    return {in.height, in.width, in.samples, DType::float32};
  }
  void run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const override {
    check_tiles(*this, in, in_shape, out);
    const std::array<float, 256>& lut = absorbance_lut();
    const std::size_t n = out.box.width * in_shape.samples;
    for (std::uint64_t y = 0; y < out.box.height; ++y) {
      const auto* src = reinterpret_cast<const std::uint8_t*>(in.data + y * in.row_stride);
      std::byte* dst = out.data + y * out.row_stride;
      for (std::size_t i = 0; i < n; ++i) store<float>(dst + i * sizeof(float), lut[src[i]]);
    }
  }
};

}  // namespace

std::unique_ptr<Op> make_absorbance(const OpParams& params) {
  params.allow_only({}, "absorbance");
  return std::make_unique<Absorbance>();
}

}  // namespace tilestream::ops::detail
