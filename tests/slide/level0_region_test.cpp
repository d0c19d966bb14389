// Regions addressed as OpenSlide addresses them (slide/level0_region): level-0 locations floored to
// the level, and every part of the rectangle outside the level zero, the inside equal to the same
// region read by Slide::read_region, whatever side it sticks out of.
#include "tilestream/slide/level0_region.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "support/temp_path.hpp"
#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::slide {
namespace {

class Level0Region : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::temp_path("level0_region.tif");
    synth::SynthOptions options;
    options.width = 300;
    options.height = 200;
    options.tile = 64;
    options.levels = 2;  // 300 x 200 and 150 x 100: downsample 2
    options.compression = codec::compression::deflate;
    synth::write_synthetic_slide(path_, options);
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

TEST_F(Level0Region, LocationsAreFlooredToTheLevel) {
  const Slide slide = Slide::open(path_);
  const LevelRect at_level1 = level_rect(slide, 1, 101, 7, 10, 20);
  EXPECT_EQ(at_level1.x, 50);
  EXPECT_EQ(at_level1.y, 3);
  const LevelRect negative = level_rect(slide, 1, -1, -4, 10, 20);
  EXPECT_EQ(negative.x, -1);  // floor(-0.5), not 0
  EXPECT_EQ(negative.y, -2);
  EXPECT_THROW(level_rect(slide, 0, 0, 0, std::uint64_t{1} << 41, 1), UsageError);
}

TEST_F(Level0Region, OutsideIsZeroAndInsideEqualsTheRegion) {
  const Slide slide = Slide::open(path_);
  struct Case {
    std::size_t level;
    std::int64_t x, y;
    std::uint64_t width, height;
  };
  const std::vector<Case> cases = {
      {0, 10, 20, 50, 40},     // inside
      {0, -30, -10, 60, 40},   // above and left
      {0, 280, 190, 50, 30},   // right and below
      {0, -5, 50, 320, 10},    // both sides
      {1, 140, 95, 30, 30},    // level 1, past its corner
      {0, 400, 0, 16, 16},     // wholly outside
      {0, 0, -100, 16, 16},    // wholly above
  };
  for (const Case& c : cases) {
    const tiff::ImageInfo& image = slide.level(c.level).image;
    const std::size_t pixel = image.samples;  // uint8
    // Rows with 8 spare bytes each: the stride is honoured and the spare bytes untouched.
    const std::size_t stride = c.width * pixel + 8;
    std::vector<std::byte> got(stride * c.height, std::byte{0x5a});
    read_level_rect_into(slide, c.level, {c.x, c.y, c.width, c.height}, got.data(), stride, 2);
    for (std::uint64_t row = 0; row < c.height; ++row) {
      for (std::uint64_t col = 0; col < c.width; ++col) {
        const std::int64_t lx = c.x + static_cast<std::int64_t>(col), ly = c.y + static_cast<std::int64_t>(row);
        const bool inside = lx >= 0 && ly >= 0 && lx < static_cast<std::int64_t>(image.width) &&
                            ly < static_cast<std::int64_t>(image.height);
        const std::byte* p = got.data() + row * stride + col * pixel;
        if (inside) {
          const HostImage want = slide.read_region(c.level, static_cast<std::uint64_t>(lx),
                                                   static_cast<std::uint64_t>(ly), 1, 1);
          ASSERT_EQ(std::memcmp(p, want.data(), pixel), 0) << "level " << c.level << " at " << lx << "," << ly;
        } else {
          for (std::size_t s = 0; s < pixel; ++s)
            ASSERT_EQ(p[s], std::byte{0}) << "level " << c.level << " at " << lx << "," << ly << " is outside";
        }
      }
      for (std::size_t spare = c.width * pixel; spare < stride; ++spare)
        ASSERT_EQ(got[row * stride + spare], std::byte{0x5a}) << "row " << row << ": wrote past the row";
    }
  }
}

// A batch of rectangles (overlapping, repeated, partly and wholly outside) equals one read per
// rectangle, and its regions' memory is filled rectangle by rectangle at the given stride.
TEST_F(Level0Region, ABatchEqualsOneReadPerRectangle) {
  const Slide slide = Slide::open(path_);
  const std::vector<LevelRect> rects = {{0, 0, 40, 30},   {0, 0, 40, 30},   {30, 20, 40, 30}, {-10, -5, 40, 30},
                                        {280, 190, 40, 30}, {500, 0, 40, 30}, {63, 63, 40, 30}};
  const std::size_t row = 40 * 3, stride = 30 * row + 16;  // 16 spare bytes after each rectangle
  std::vector<std::byte> batch(rects.size() * stride, std::byte{0x5a});
  read_level_rects_into(slide, 0, rects, batch.data(), row, stride, 3);
  for (std::size_t k = 0; k < rects.size(); ++k) {
    std::vector<std::byte> one(30 * row);
    read_level_rect_into(slide, 0, rects[k], one.data(), row, 1);
    EXPECT_EQ(std::memcmp(batch.data() + k * stride, one.data(), one.size()), 0) << "rectangle " << k;
    for (std::size_t spare = 30 * row; spare < stride; ++spare)
      ASSERT_EQ(batch[k * stride + spare], std::byte{0x5a}) << "rectangle " << k << " wrote past its share";
  }
}

TEST_F(Level0Region, ARowWiderThanTheStrideIsAUsageErrorNamingTheFile) {
  const Slide slide = Slide::open(path_);
  std::vector<std::byte> memory(64 * 3 * 4);
  try {
    read_level_rect_into(slide, 0, {0, 0, 65, 4}, memory.data(), 64 * 3, 1);
    ADD_FAILURE() << "wrote 65 pixels into rows of 64";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(path_), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tilestream::slide
