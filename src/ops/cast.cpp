// cast: samples converted to another dtype, value for value (core/cast.hpp: any sample type to float32,
// exact except for 32-bit integers beyond 2^24, rounded to nearest even as numpy's astype). `convert --dtype` runs it as the first op of a dataset's chain.
#include "ops/op_table.hpp"
#include "ops/pixels.hpp"
#include "tilestream/core/cast.hpp"

namespace tilestream::ops::detail {
namespace {

class Cast final : public Op {
 public:
  explicit Cast(DType to) : Op(concat("cast:dtype=", to_string(to))), to_(to) {}
  std::uint32_t halo() const override { return 0; }
  ImageShape output_shape(const ImageShape& in) const override {
    require(cast_supported(in.dtype, to_),
            concat("no exact conversion from ", to_string(in.dtype), " samples to ", to_string(to_)));
    require(in.height > 0 && in.width > 0, "empty input image");
    return {in.height, in.width, in.samples, to_};
  }
  void run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const override {
    check_tiles(*this, in, in_shape, out);
    const std::size_t count = out.box.width * in_shape.samples;
    const std::size_t in_bytes = count * bytes_per_sample(in_shape.dtype), out_bytes = count * bytes_per_sample(to_);
    for (std::uint64_t y = 0; y < out.box.height; ++y)
      cast_samples({in.data + y * in.row_stride, in_bytes}, in_shape.dtype, {out.data + y * out.row_stride, out_bytes},
                   to_);
  }

 private:
  DType to_;
};

}  // namespace

std::unique_ptr<Op> make_cast(const OpParams& params) {
  params.allow_only({"dtype"}, "cast:dtype=float32");
  const std::string to = params.word("dtype", "float32");
  check<UsageError>(to == "float32", "cast: dtype must be float32 (the one conversion offered from every sample "
                                     "type), not '", to, "'");
  return std::make_unique<Cast>(DType::float32);
}

}  // namespace tilestream::ops::detail
