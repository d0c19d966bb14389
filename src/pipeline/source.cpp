// The two sources of a dataset: a slide level, and an array written earlier in the run (read back
// from the store and, when stored (c, y, x), interleaved).
#include "tilestream/pipeline/source.hpp"

#include <cstring>

#include "tilestream/core/error.hpp"

namespace tilestream::pipeline {
namespace {

class SlideLevelSource final : public Source {
 public:
  SlideLevelSource(const slide::Slide& slide, std::size_t level) : slide_(slide), level_(level) {}
  ops::ImageShape shape() const override {
    const tiff::ImageInfo& image = slide_.level(level_).image;
    return {image.height, image.width, image.samples, image.dtype};
  }
  std::size_t tile_bytes() const override {
    const tiff::ImageInfo& image = slide_.level(level_).image;
    return static_cast<std::size_t>(image.tile_width) * image.tile_height * shape().pixel_bytes();
  }
  HostImage read(const ops::Box& box, unsigned threads) const override {
    return slide_.read_region(level_, box.x, box.y, box.width, box.height, {threads});
  }
  const slide::Slide* slide() const override { return &slide_; }
  std::size_t level() const override { return level_; }
  std::string name() const override { return concat(slide_.path(), " level ", level_); }

 private:
  const slide::Slide& slide_;
  std::size_t level_;
};

// (c, y, x) planes to interleaved (y, x, c), for samples of `Size` bytes.
template <std::size_t Size>
void interleave_planes(const std::byte* planar, std::uint64_t pixels, std::uint32_t samples, std::byte* out) {
  for (std::uint32_t c = 0; c < samples; ++c)
    for (std::uint64_t i = 0; i < pixels; ++i)
      std::memcpy(out + (i * samples + c) * Size, planar + (c * pixels + i) * Size, Size);
}

class ArraySource final : public Source {
 public:
  ArraySource(const zarr::ArrayReader& reader, Layout layout, std::string name)
      : reader_(reader), layout_(layout), name_(std::move(name)) {
    const auto& shape = reader_.spec().shape;
    check<UsageError>(shape.size() == 3, name_, ": an array of ", shape.size(), " axes, not an image");
    const AxisOrder axes = axis_order(layout_);
    shape_ = {shape[axes.y], shape[axes.x], static_cast<std::uint32_t>(shape[axes.c]), reader_.spec().dtype};
  }
  ops::ImageShape shape() const override { return shape_; }
  std::size_t tile_bytes() const override {
    std::size_t bytes = bytes_per_sample(shape_.dtype);
    for (const std::uint64_t side : reader_.spec().block_shape()) bytes *= side;
    return bytes;
  }
  HostImage read(const ops::Box& box, unsigned /*threads*/) const override {
    const AxisOrder axes = axis_order(layout_);
    std::vector<std::uint64_t> origin(3, 0), extent(3, shape_.samples);
    origin[axes.y] = box.y;
    origin[axes.x] = box.x;
    extent[axes.y] = box.height;
    extent[axes.x] = box.width;
    const std::vector<std::byte> region = reader_.read_region(origin, extent);
    HostImage image(box.height, box.width, shape_.samples, shape_.dtype);
    check<UsageError>(region.size() == image.size_bytes(), name_, ": region of ", region.size(), " bytes for a ",
                      box.width, "x", box.height, " box");
    const std::uint64_t pixels = box.height * box.width;
    std::byte* out = image.data();
    if (layout_ == Layout::yxc || shape_.samples == 1) {
      std::memcpy(out, region.data(), region.size());
    } else if (bytes_per_sample(shape_.dtype) == 1) {
      interleave_planes<1>(region.data(), pixels, shape_.samples, out);
    } else if (bytes_per_sample(shape_.dtype) == 2) {
      interleave_planes<2>(region.data(), pixels, shape_.samples, out);
    } else {
      interleave_planes<4>(region.data(), pixels, shape_.samples, out);
    }
    return image;
  }
  std::string name() const override { return name_; }

 private:
  const zarr::ArrayReader& reader_;
  Layout layout_;
  std::string name_;
  ops::ImageShape shape_;
};

}  // namespace

std::unique_ptr<Source> slide_level_source(const slide::Slide& slide, std::size_t level) {
  check<UsageError>(level < slide.level_count(), slide.path(), ": no level ", level, " (the slide has ",
                    slide.level_count(), ")");
  const tiff::ImageInfo& image = slide.level(level).image;
  check<UsageError>(image.unsupported_reason.empty(), image.unsupported_reason);
  return std::make_unique<SlideLevelSource>(slide, level);
}

std::unique_ptr<Source> array_source(const zarr::ArrayReader& reader, Layout layout, std::string name) {
  return std::make_unique<ArraySource>(reader, layout, std::move(name));
}

}  // namespace tilestream::pipeline
