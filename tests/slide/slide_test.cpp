// Slide reads: regions agree with the full level, thread counts do not change pixels, and bad
// requests get usage errors that name the file.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "support/testdata.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::slide {
namespace {

bool same_pixels_as_crop(const HostImage& level, const HostImage& region, std::uint64_t x, std::uint64_t y) {
  for (std::uint64_t row = 0; row < region.height(); ++row) {
    if (std::memcmp(region.row(row), level.row(y + row) + x * level.pixel_bytes(), region.row_bytes()) != 0)
      return false;
  }
  return true;
}

class RegionsOfRealSlides : public ::testing::TestWithParam<const char*> {};

TEST_P(RegionsOfRealSlides, RegionsEqualCropsOfTheLevel) {
  TILESTREAM_REQUIRE_TESTDATA(path, GetParam());
  const Slide slide = Slide::open(path);
  std::mt19937_64 random(42);
  for (std::size_t k = 0; k < slide.level_count(); ++k) {
    const HostImage level = slide.read_level(k, {2});
    const auto& im = slide.level(k).image;
    ASSERT_EQ(level.width(), im.width);
    ASSERT_EQ(level.height(), im.height);
    for (int trial = 0; trial < 6; ++trial) {
      const std::uint64_t w = 1 + random() % std::min<std::uint64_t>(im.width, 700);
      const std::uint64_t h = 1 + random() % std::min<std::uint64_t>(im.height, 700);
      // Trials 0 and 1 touch the right / bottom edges, where partial tiles are cropped.
      const std::uint64_t x = trial == 0 ? im.width - w : random() % (im.width - w + 1);
      const std::uint64_t y = trial == 1 ? im.height - h : random() % (im.height - h + 1);
      const HostImage region = slide.read_region(k, x, y, w, h, {1 + static_cast<unsigned>(trial % 3)});
      EXPECT_TRUE(same_pixels_as_crop(level, region, x, y))
          << path << " level " << k << " region " << x << "," << y << " " << w << "x" << h;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SharedTestdata, RegionsOfRealSlides,
                         ::testing::Values("aperio/CMU-1-Small-Region.svs", "derived/cmu1-pyramid-lzw.tif",
                                           "derived/cmu1-bigendian-zip-pred-128.tif",
                                           "derived/cmu1-crop-strips-lzw.tif",
                                           "derived/cmu1-pyramid-jpeg-bigtiff.tif"));

TEST(Slide, ThreadCountDoesNotChangePixels) {
  TILESTREAM_REQUIRE_TESTDATA(path, "derived/cmu1-pyramid-deflate-pred.tif");
  const Slide slide = Slide::open(path);
  const HostImage one = slide.read_level(0, {1});
  const HostImage many = slide.read_level(0, {5});
  ASSERT_EQ(one.size_bytes(), many.size_bytes());
  EXPECT_EQ(std::memcmp(one.data(), many.data(), one.size_bytes()), 0);
}

TEST(Slide, AssociatedImagesByName) {
  TILESTREAM_REQUIRE_TESTDATA(path, "aperio/CMU-1-Small-Region.svs");
  const Slide slide = Slide::open(path);
  const HostImage label = slide.read_associated("label");
  EXPECT_EQ(label.width(), 387u);
  EXPECT_EQ(label.height(), 463u);
  EXPECT_EQ(label.samples(), 3u);
  try {
    (void)slide.read_associated("barcode");
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("thumbnail, label, macro"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Slide, BadRequestsAreUsageErrorsNamingTheFile) {
  TILESTREAM_REQUIRE_TESTDATA(path, "derived/cmu1-crop-tiled-raw.tif");
  const Slide slide = Slide::open(path);
  auto expect_usage = [&](auto&& call, const char* words) {
    try {
      call();
      ADD_FAILURE() << "expected a UsageError mentioning " << words;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  };
  expect_usage([&] { (void)slide.read_region(3, 0, 0, 1, 1); }, "level 3 does not exist");
  expect_usage([&] { (void)slide.read_region(0, 990, 0, 11, 1); }, "outside the image");
  expect_usage([&] { (void)slide.read_region(0, 0, 1200, 1, 1); }, "outside the image");
  expect_usage([&] { (void)slide.read_region(0, 0, 0, 0, 5); }, "empty region");
  expect_usage([&] { (void)slide.read_region(0, UINT64_MAX, 0, 2, 1); }, "outside the image");
}

TEST(Slide, BestLevelForDownsample) {
  TILESTREAM_REQUIRE_TESTDATA(path, "derived/cmu1-pyramid-lzw.tif");  // downsamples 1, 2.0003, 4.002, 8.017, 16.06
  const Slide slide = Slide::open(path);
  EXPECT_EQ(slide.best_level_for_downsample(0.5), 0u);
  EXPECT_EQ(slide.best_level_for_downsample(1.0), 0u);
  EXPECT_EQ(slide.best_level_for_downsample(1.99), 0u);
  EXPECT_EQ(slide.best_level_for_downsample(2.0004), 1u);
  EXPECT_EQ(slide.best_level_for_downsample(7.9), 2u);
  EXPECT_EQ(slide.best_level_for_downsample(1000), 4u);
}

TEST(Slide, MissingFileIsAnIoErrorNamingIt) {
  try {
    (void)Slide::open("no-such-dir/no-such-slide.svs");
    FAIL() << "expected an IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-dir/no-such-slide.svs: cannot open"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tilestream::slide
