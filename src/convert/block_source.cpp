// Region sources (slide level, downsampled dataset, memory) and cutting padded, laid-out blocks.
#include "convert/block_source.hpp"

#include <algorithm>
#include <cstring>

#include "tilestream/ops/op.hpp"
#include "tilestream/convert/plan.hpp"
#include "tilestream/core/cast.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::convert {
namespace {

class SlideLevelSource final : public RegionSource {
 public:
  SlideLevelSource(const slide::Slide& slide, std::size_t level) : slide_(slide), level_(level) {}
  std::uint64_t width() const override { return slide_.level(level_).image.width; }
  std::uint64_t height() const override { return slide_.level(level_).image.height; }
  std::uint32_t samples() const override { return slide_.level(level_).image.samples; }
  DType dtype() const override { return slide_.level(level_).image.dtype; }
  void read(std::uint64_t x, std::uint64_t y, std::uint64_t w, std::uint64_t h,
            std::span<std::byte> out) const override {
    const HostImage image = slide_.read_region(level_, x, y, w, h, slide::ReadOptions{1});
    check<UsageError>(image.size_bytes() == out.size(), "slide region of ", image.size_bytes(),
                      " bytes does not fit a buffer of ", out.size());
    std::memcpy(out.data(), image.data(), out.size());
  }

 private:
  const slide::Slide& slide_;
  std::size_t level_;
};

// (c, y, x) <-> (y, x, c) for elements of `Size` bytes.
template <std::size_t Size>
void interleave_planes(const std::byte* planar, std::uint64_t pixels, std::uint32_t samples, std::byte* out) {
  for (std::uint32_t c = 0; c < samples; ++c)
    for (std::uint64_t i = 0; i < pixels; ++i)
      std::memcpy(out + (i * samples + c) * Size, planar + (c * pixels + i) * Size, Size);
}

void planar_to_interleaved(const std::byte* planar, std::uint64_t pixels, std::uint32_t samples,
                           std::size_t size, std::byte* out) {
  switch (size) {
    case 1:
      return interleave_planes<1>(planar, pixels, samples, out);
    case 2:
      return interleave_planes<2>(planar, pixels, samples, out);
    default:
      return interleave_planes<4>(planar, pixels, samples, out);
  }
}

class DownsampledSource final : public RegionSource {
 public:
  DownsampledSource(const zarr::ArrayReader& previous, Layout layout)
      : previous_(previous), layout_(layout), op_(ops::make_op("downsample2x")) {
    const auto& shape = previous_.spec().shape;
    const AxisOrder axes = axis_order(layout_);
    prev_h_ = shape[axes.y];
    prev_w_ = shape[axes.x];
    samples_ = static_cast<std::uint32_t>(shape[axes.c]);
    out_ = op_->output_shape(in_shape());
  }
  std::uint64_t width() const override { return out_.width; }
  std::uint64_t height() const override { return out_.height; }
  std::uint32_t samples() const override { return samples_; }
  DType dtype() const override { return previous_.spec().dtype; }
  void read(std::uint64_t x, std::uint64_t y, std::uint64_t w, std::uint64_t h,
            std::span<std::byte> out) const override {
    const ops::Box box{y, x, h, w};
    const ops::Box need = op_->input_box(box, in_shape());
    const std::uint64_t sx = need.x, sy = need.y, sw = need.width, sh = need.height;
    std::vector<std::uint64_t> origin(3, 0), extent(3, samples_);
    const AxisOrder axes = axis_order(layout_);
    origin[axes.y] = sy;
    origin[axes.x] = sx;
    extent[axes.y] = sh;
    extent[axes.x] = sw;
    std::vector<std::byte> region = previous_.read_region(origin, extent);
    if (layout_ == Layout::cyx) {
      std::vector<std::byte> interleaved(region.size());
      planar_to_interleaved(region.data(), sh * sw, samples_, bytes_per_sample(dtype()), interleaved.data());
      region.swap(interleaved);
    }
    const std::size_t pixel = samples_ * bytes_per_sample(dtype());
    check<UsageError>(out.size() == w * h * pixel, "downsampled source: ", out.size(), " bytes for a ", w, "x", h,
                      " rectangle");
    // The downsample2x op is the one implementation of the 2x mean; its views carry the rectangles'
    // places in the images, so that edge pixels average only the pixels that exist.
    op_->run_cpu({region.data(), sw * pixel, need}, in_shape(), {out.data(), w * pixel, box});
  }

 private:
  ops::ImageShape in_shape() const { return {prev_h_, prev_w_, samples_, previous_.spec().dtype}; }

  const zarr::ArrayReader& previous_;
  Layout layout_;
  std::unique_ptr<ops::Op> op_;
  std::uint64_t prev_w_ = 0, prev_h_ = 0;
  std::uint32_t samples_ = 0;
  ops::ImageShape out_;
};

class MemorySource final : public RegionSource {
 public:
  MemorySource(std::vector<std::byte> pixels, std::uint64_t width, std::uint64_t height,
               std::uint32_t samples, DType dtype)
      : pixels_(std::move(pixels)), width_(width), height_(height), samples_(samples), dtype_(dtype) {
    check<UsageError>(pixels_.size() == width * height * samples * bytes_per_sample(dtype),
                      "memory_source: pixel buffer size does not match its shape");
  }
  std::uint64_t width() const override { return width_; }
  std::uint64_t height() const override { return height_; }
  std::uint32_t samples() const override { return samples_; }
  DType dtype() const override { return dtype_; }
  void read(std::uint64_t x, std::uint64_t y, std::uint64_t w, std::uint64_t h,
            std::span<std::byte> out) const override {
    const std::size_t pixel = samples_ * bytes_per_sample(dtype_);
    for (std::uint64_t r = 0; r < h; ++r)
      std::memcpy(out.data() + r * w * pixel, pixels_.data() + ((y + r) * width_ + x) * pixel, w * pixel);
  }

 private:
  std::vector<std::byte> pixels_;
  std::uint64_t width_, height_;
  std::uint32_t samples_;
  DType dtype_;
};

// Copies a band of `rows` x `cols` interleaved pixels into the block at row `row0` (block coords).
template <std::size_t Size>
void place_band_cyx(const std::byte* band, std::uint64_t rows, std::uint64_t cols, std::uint32_t samples,
                    std::uint64_t row0, std::uint64_t block_h, std::uint64_t block_w, std::byte* block) {
  for (std::uint32_t c = 0; c < samples; ++c)
    for (std::uint64_t r = 0; r < rows; ++r) {
      std::byte* dst = block + ((c * block_h + row0 + r) * block_w) * Size;
      const std::byte* src = band + (r * cols * samples + c) * Size;
      for (std::uint64_t i = 0; i < cols; ++i) std::memcpy(dst + i * Size, src + i * samples * Size, Size);
    }
}

}  // namespace

std::unique_ptr<RegionSource> slide_level_source(const slide::Slide& slide, std::size_t level) {
  check<UsageError>(level < slide.level_count(), "slide level ", level, " does not exist");
  return std::make_unique<SlideLevelSource>(slide, level);
}

namespace {

class CastSource final : public RegionSource {
 public:
  CastSource(std::unique_ptr<RegionSource> source, DType dtype) : source_(std::move(source)), dtype_(dtype) {
    check_cast(source_->dtype(), dtype_);
  }
  std::uint64_t width() const override { return source_->width(); }
  std::uint64_t height() const override { return source_->height(); }
  std::uint32_t samples() const override { return source_->samples(); }
  DType dtype() const override { return dtype_; }
  void read(std::uint64_t x, std::uint64_t y, std::uint64_t w, std::uint64_t h,
            std::span<std::byte> out) const override {
    std::vector<std::byte> raw(w * h * source_->samples() * bytes_per_sample(source_->dtype()));
    source_->read(x, y, w, h, raw);
    cast_samples(raw, source_->dtype(), out, dtype_);
  }

 private:
  std::unique_ptr<RegionSource> source_;
  DType dtype_;
};

}  // namespace

std::unique_ptr<RegionSource> cast_source(std::unique_ptr<RegionSource> source, DType dtype) {
  if (source->dtype() == dtype) return source;
  return std::make_unique<CastSource>(std::move(source), dtype);
}

std::unique_ptr<RegionSource> downsampled_source(const zarr::ArrayReader& previous, Layout layout) {
  return std::make_unique<DownsampledSource>(previous, layout);
}

std::unique_ptr<RegionSource> memory_source(std::vector<std::byte> pixels, std::uint64_t width,
                                            std::uint64_t height, std::uint32_t samples, DType dtype) {
  return std::make_unique<MemorySource>(std::move(pixels), width, height, samples, dtype);
}

std::vector<std::byte> assemble_block(const RegionSource& source, const zarr::ArraySpec& spec, Layout layout,
                                      std::uint64_t block_y, std::uint64_t block_x, std::uint64_t band_rows) {
  const AxisOrder axes = axis_order(layout);
  const auto& shape = spec.block_shape();
  const std::uint64_t block_h = shape[axes.y], block_w = shape[axes.x];
  const std::uint32_t samples = source.samples();
  const std::size_t size = bytes_per_sample(source.dtype());
  check<UsageError>(shape[axes.c] == samples, "block has ", shape[axes.c], " channels, the source ", samples);
  const std::uint64_t y0 = block_y * block_h, x0 = block_x * block_w;
  check<UsageError>(y0 < source.height() && x0 < source.width(), "block (", block_y, ", ", block_x,
                    ") lies outside the ", source.width(), "x", source.height(), " image");
  const std::uint64_t rows = std::min(block_h, source.height() - y0);
  const std::uint64_t cols = std::min(block_w, source.width() - x0);
  // Fill value 0: zero-initialised, then the image part is copied over it.
  std::vector<std::byte> block(block_h * block_w * samples * size, std::byte{0});
  const std::uint64_t band = band_rows == 0 ? rows : std::min(band_rows, rows);
  std::vector<std::byte> scratch(band * cols * samples * size);
  for (std::uint64_t r = 0; r < rows; r += band) {
    const std::uint64_t n = std::min(band, rows - r);
    const std::span<std::byte> pixels(scratch.data(), n * cols * samples * size);
    if (layout == Layout::yxc && cols == block_w) {
      // Whole rows: read straight into the block.
      source.read(x0, y0 + r, cols, n, std::span(block.data() + r * block_w * samples * size, pixels.size()));
      continue;
    }
    source.read(x0, y0 + r, cols, n, pixels);
    if (layout == Layout::yxc) {
      for (std::uint64_t i = 0; i < n; ++i)
        std::memcpy(block.data() + (r + i) * block_w * samples * size,
                    pixels.data() + i * cols * samples * size, cols * samples * size);
    } else if (size == 1) {
      place_band_cyx<1>(pixels.data(), n, cols, samples, r, block_h, block_w, block.data());
    } else if (size == 2) {
      place_band_cyx<2>(pixels.data(), n, cols, samples, r, block_h, block_w, block.data());
    } else {
      place_band_cyx<4>(pixels.data(), n, cols, samples, r, block_h, block_w, block.data());
    }
  }
  return block;
}

}  // namespace tilestream::convert
