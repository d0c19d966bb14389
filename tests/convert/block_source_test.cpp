// Cutting blocks: edge blocks padded with the fill value, (c, y, x) transpose, band-wise reading
// equal to whole-block reading, and the downsampled source over an array in a store.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "convert/block_source.hpp"
#include "support/downsample2x.hpp"
#include "tilestream/convert/plan.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::convert {
namespace {

// Pixel (y, x, c) of the test image: distinct, never 0.
std::uint16_t value_at(std::uint64_t y, std::uint64_t x, std::uint32_t c) {
  return static_cast<std::uint16_t>(1 + y * 1000 + x * 10 + c);
}

std::unique_ptr<RegionSource> test_image(std::uint64_t w, std::uint64_t h, std::uint32_t samples) {
  std::vector<std::uint16_t> pixels;
  for (std::uint64_t y = 0; y < h; ++y)
    for (std::uint64_t x = 0; x < w; ++x)
      for (std::uint32_t c = 0; c < samples; ++c) pixels.push_back(value_at(y, x, c));
  const auto bytes = std::as_bytes(std::span(pixels));
  return memory_source(std::vector<std::byte>(bytes.begin(), bytes.end()), w, h, samples, DType::uint16);
}

zarr::ArraySpec spec_for(std::uint64_t w, std::uint64_t h, std::uint32_t samples, std::uint64_t chunk,
                         std::uint64_t shard, Layout layout) {
  ConvertOptions options;
  options.chunk = chunk;
  options.shard = shard;
  options.layout = layout;
  return dataset_array_spec(DatasetPlan{"0", w, h, 0, 1}, samples, DType::uint16, options);
}

std::uint16_t sample(const std::vector<std::byte>& block, std::size_t index) {
  std::uint16_t v;
  std::memcpy(&v, block.data() + index * 2, 2);
  return v;
}

struct Case {
  Layout layout;
  std::uint64_t chunk, shard, band;
};

class BlockSourceTest : public ::testing::TestWithParam<Case> {};

TEST_P(BlockSourceTest, EveryBlockHoldsItsPixelsAndZeroPadding) {
  const Case c = GetParam();
  const std::uint64_t w = 37, h = 23;
  const std::uint32_t samples = 3;
  const auto source = test_image(w, h, samples);
  const auto spec = spec_for(w, h, samples, c.chunk, c.shard, c.layout);
  const AxisOrder axes = axis_order(c.layout);
  const std::uint64_t bh = spec.block_shape()[axes.y], bw = spec.block_shape()[axes.x];
  const auto grid = spec.grid_shape();
  for (std::uint64_t by = 0; by < grid[axes.y]; ++by)
    for (std::uint64_t bx = 0; bx < grid[axes.x]; ++bx) {
      const auto block = assemble_block(*source, spec, c.layout, by, bx, c.band);
      ASSERT_EQ(block.size(), bh * bw * samples * 2);
      for (std::uint64_t y = 0; y < bh; ++y)
        for (std::uint64_t x = 0; x < bw; ++x)
          for (std::uint32_t s = 0; s < samples; ++s) {
            const std::uint64_t iy = by * bh + y, ix = bx * bw + x;
            const std::size_t index =
                c.layout == Layout::yxc ? (y * bw + x) * samples + s : (s * bh + y) * bw + x;
            const std::uint16_t want = iy < h && ix < w ? value_at(iy, ix, s) : 0;
            ASSERT_EQ(sample(block, index), want)
                << "block " << by << "," << bx << " y " << y << " x " << x << " s " << s;
          }
    }
}

INSTANTIATE_TEST_SUITE_P(Layouts, BlockSourceTest,
                         ::testing::Values(Case{Layout::yxc, 8, 0, 0}, Case{Layout::cyx, 8, 0, 0},
                                           Case{Layout::yxc, 5, 15, 5}, Case{Layout::cyx, 5, 15, 5},
                                           Case{Layout::cyx, 1, 0, 0}, Case{Layout::yxc, 64, 0, 0},
                                           Case{Layout::yxc, 10, 40, 3}));

TEST(BlockSource, DownsampledSourceReadsThePreviousArray) {
  for (const Layout layout : {Layout::yxc, Layout::cyx}) {
    SCOPED_TRACE(layout == Layout::yxc ? "yxc" : "cyx");
    const std::uint64_t w = 37, h = 23;
    const auto source = test_image(w, h, 3);
    zarr::MemoryStore store;
    const auto spec = spec_for(w, h, 3, 8, 0, layout);
    const zarr::ArrayWriter writer(store, "0", spec);
    const AxisOrder axes = axis_order(layout);
    const auto grid = spec.grid_shape();
    for (std::uint64_t by = 0; by < grid[axes.y]; ++by)
      for (std::uint64_t bx = 0; bx < grid[axes.x]; ++bx) {
        std::vector<std::uint64_t> coords(3, 0);
        coords[axes.y] = by;
        coords[axes.x] = bx;
        writer.write_block(coords, assemble_block(*source, spec, layout, by, bx));
      }
    const zarr::ArrayReader reader(store, "0");
    const auto down = downsampled_source(reader, layout);
    ASSERT_EQ(down->width(), 19u);
    ASSERT_EQ(down->height(), 12u);
    // Reference: downsample the whole image at once.
    std::vector<std::byte> all(w * h * 3 * 2);
    source->read(0, 0, w, h, all);
    const std::vector<std::byte> want = testing::downsample2x_of(all, h, w, 3, DType::uint16);
    // A rectangle at the odd edge.
    std::vector<std::byte> got(5 * 4 * 3 * 2);
    down->read(14, 8, 5, 4, got);
    for (std::uint64_t y = 0; y < 4; ++y)
      for (std::uint64_t x = 0; x < 5; ++x)
        for (std::uint64_t s = 0; s < 3; ++s)
          ASSERT_EQ(sample(got, (y * 5 + x) * 3 + s), sample(want, ((8 + y) * 19 + 14 + x) * 3 + s))
              << y << "," << x << "," << s;
  }
}

TEST(BlockSource, BlockOutsideTheImageIsRefused) {
  const auto source = test_image(10, 10, 1);
  const auto spec = spec_for(10, 10, 1, 4, 0, Layout::yxc);
  EXPECT_THROW(assemble_block(*source, spec, Layout::yxc, 3, 0), UsageError);
}

}  // namespace
}  // namespace tilestream::convert
