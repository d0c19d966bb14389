// downsample2x: 2x2 area mean, the very code that builds `convert --ome` pyramid levels.
#include "convert/downsample.hpp"
#include "ops/pixels.hpp"
#include "ops/op_table.hpp"

namespace tilestream::ops::detail {
namespace {

class Downsample2x final : public Op {
 public:
  Downsample2x() : Op("downsample2x") {}
  std::uint32_t halo() const override { return 0; }
  ImageShape output_shape(const ImageShape& in) const override {
    require(in.height > 0 && in.width > 0 && in.samples > 0, "empty input image");
    return {convert::downsampled_size(in.height), convert::downsampled_size(in.width), in.samples, in.dtype};
  }
  Box input_box(const Box& out, const ImageShape& in) const override {
    const std::uint64_t y = std::min(2 * out.y, in.height), x = std::min(2 * out.x, in.width);
    return {y, x, std::min(2 * out.height, in.height - y), std::min(2 * out.width, in.width - x)};
  }
  void run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const override {
    check_tiles(*this, in, in_shape, out);
    convert::downsample_2x_rows(in.data, in.row_stride, in.box.height, in.box.width, in_shape.samples,
                                in_shape.dtype, out.data, out.row_stride);
  }
};

}  // namespace

std::unique_ptr<Op> make_downsample2x(const OpParams& params) {
  params.allow_only({}, "downsample2x");
  return std::make_unique<Downsample2x>();
}

}  // namespace tilestream::ops::detail
