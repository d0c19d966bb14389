// Grids of patches and the epoch's order (slide/patch_plan): grid locations map back exactly onto the
// grid's level pixels at every level, masks keep the patches whose centre they cover, and shuffles are
// permutations fixed by seed and epoch.
#include "tilestream/slide/patch_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <vector>

#include "support/temp_path.hpp"
#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/level0_region.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::slide {
namespace {

class PatchPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::temp_path("patch_plan.tif");
    synth::SynthOptions options;
    options.width = 301;  // odd sizes: level downsamples are not whole numbers (301 / 150, 301 / 75)
    options.height = 203;
    options.tile = 64;
    options.levels = 3;
    options.compression = codec::compression::deflate;
    synth::write_synthetic_slide(path_, options);
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

TEST_F(PatchPlan, GridLocationsReadTheGridsLevelPixels) {
  const Slide slide = Slide::open(path_);
  for (std::size_t level = 0; level < slide.level_count(); ++level) {
    const tiff::ImageInfo& image = slide.level(level).image;
    const std::vector<PatchRef> grid = patch_grid(slide, 3, level, {20, 10, 15, 7, false});
    const std::uint64_t across = (image.width - 20) / 15 + 1, down = (image.height - 10) / 7 + 1;
    ASSERT_EQ(grid.size(), across * down) << "level " << level;
    for (std::size_t k = 0; k < grid.size(); ++k) {
      EXPECT_EQ(grid[k].slide, 3U);
      const LevelRect r = level_rect(slide, level, grid[k].x, grid[k].y, 20, 10);
      EXPECT_EQ(r.x, static_cast<std::int64_t>((k % across) * 15)) << "level " << level << " patch " << k;
      EXPECT_EQ(r.y, static_cast<std::int64_t>((k / across) * 7)) << "level " << level << " patch " << k;
      // The smallest such location: one less maps to the pixel before.
      if (r.x > 0) EXPECT_LT(level_rect(slide, level, grid[k].x - 1, 0, 1, 1).x, r.x);
    }
  }
}

TEST_F(PatchPlan, CoverEdgesAddsThePatchesThatStickOut) {
  const Slide slide = Slide::open(path_);
  EXPECT_EQ(patch_grid(slide, 0, 0, {100, 100, 100, 100, false}).size(), 3U * 2U);
  const std::vector<PatchRef> covering = patch_grid(slide, 0, 0, {100, 100, 100, 100, true});
  ASSERT_EQ(covering.size(), 4U * 3U);  // 301 x 203: 4 columns, 3 rows
  EXPECT_EQ(covering.back().x, 300);
  EXPECT_EQ(covering.back().y, 200);
  EXPECT_TRUE(patch_grid(slide, 0, 0, {400, 10, 400, 10, false}).empty());  // wider than the level
}

TEST_F(PatchPlan, MaskKeepsThePatchesWhoseCentreItCovers) {
  const Slide slide = Slide::open(path_);
  // 2 x 2 mask over the slide: only its top-right quarter set.
  const std::vector<std::uint8_t> pixels = {0, 1, 0, 0};
  const PatchMask mask{pixels.data(), 2, 2};
  const std::vector<PatchRef> kept = patch_grid(slide, 0, 0, {50, 50, 50, 50, false}, &mask);
  ASSERT_FALSE(kept.empty());
  for (const PatchRef& p : kept) {
    EXPECT_GE(p.x + 25, 301 / 2) << p.x;  // centre in the right half
    EXPECT_LT(p.y + 25, 203 / 2 + 1) << p.y;
  }
  // Exactly the patches whose centres lie in the quarter: centres 25, 75, ..., 275 by 25, 75, 125, 175.
  std::size_t expected = 0;
  for (int cx = 25; cx <= 275; cx += 50)
    for (int cy = 25; cy <= 175; cy += 50) expected += (cx * 2 / 301 == 1 && cy * 2 / 203 == 0) ? 1 : 0;
  EXPECT_EQ(kept.size(), expected);
  const std::vector<std::uint8_t> none = {0};
  const PatchMask empty{none.data(), 1, 1};
  EXPECT_TRUE(patch_grid(slide, 0, 1, {10, 10, 10, 10, false}, &empty).empty());
}

TEST_F(PatchPlan, BadGridsAreUsageErrors) {
  const Slide slide = Slide::open(path_);
  EXPECT_THROW(patch_grid(slide, 0, 9, {10, 10, 10, 10, false}), UsageError);
  EXPECT_THROW(patch_grid(slide, 0, 0, {0, 10, 10, 10, false}), UsageError);
  EXPECT_THROW(patch_grid(slide, 0, 0, {10, 10, 0, 10, false}), UsageError);
  const PatchMask no_pixels{nullptr, 0, 0};
  EXPECT_THROW(patch_grid(slide, 0, 0, {10, 10, 10, 10, false}, &no_pixels), UsageError);
}

TEST(EpochOrder, InOrderUnlessShuffled) {
  const std::vector<std::size_t> order = epoch_order(5, false, 42, 3);
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(epoch_order(0, true, 1, 0).empty());
}

TEST(EpochOrder, ShufflesArePermutationsFixedBySeedAndEpoch) {
  const std::vector<std::size_t> a = epoch_order(1000, true, 7, 0);
  std::vector<std::size_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_NE(a, identity);
  EXPECT_EQ(a, epoch_order(1000, true, 7, 0));  // reproducible
  EXPECT_NE(a, epoch_order(1000, true, 7, 1));  // another epoch
  EXPECT_NE(a, epoch_order(1000, true, 8, 0));  // another seed
  // Fixed by definition (splitmix64 + Fisher-Yates), the same on every platform: values computed by an
  // independent Python implementation of that definition.
  EXPECT_EQ(epoch_order(8, true, 1, 0), (std::vector<std::size_t>{0, 5, 2, 7, 3, 4, 1, 6}));
  EXPECT_EQ(epoch_order(8, true, 1, 1), (std::vector<std::size_t>{7, 1, 4, 5, 3, 0, 2, 6}));
}

}  // namespace
}  // namespace tilestream::slide
