// The CPU reference of tile placement: every region equals the pattern predicted from pixel positions,
// tile padding never leaks, uncovered pixels stay untouched, and bad arguments are usage errors.
#include "tilestream/slide/place_tiles.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/place_tiles_cases.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::slide {
namespace {

using tilestream::testing::PlaceCase;

class PlaceTilesCpu : public ::testing::TestWithParam<PlaceCase> {};

TEST_P(PlaceTilesCpu, RegionEqualsThePredictedPattern) {
  const PlaceGeometry& g = GetParam().geometry;
  const std::vector<TileSlot> slots = region_tile_slots(g);
  const std::vector<std::byte> tiles = testing::make_tiles(g, slots);
  std::vector<std::byte> out(g.region_row_bytes() * g.region_height, std::byte{0x55});
  place_tiles(tiles, slots, g, out.data(), g.region_row_bytes());
  EXPECT_EQ(out, testing::expected_region(g));
}

TEST_P(PlaceTilesCpu, SlotOrderDoesNotMatterAndPaddedRowsKeepTheirGap) {
  const PlaceGeometry& g = GetParam().geometry;
  std::vector<TileSlot> slots = region_tile_slots(g);
  std::reverse(slots.begin(), slots.end());
  const std::vector<std::byte> tiles = testing::make_tiles(g, slots);
  const std::size_t stride = g.region_row_bytes() + 5;  // rows with a gap after them
  std::vector<std::byte> out(stride * g.region_height, std::byte{0x55});
  place_tiles(tiles, slots, g, out.data(), stride);
  const std::vector<std::byte> expected = testing::expected_region(g);
  for (std::uint64_t r = 0; r < g.region_height; ++r) {
    ASSERT_TRUE(std::equal(expected.begin() + r * g.region_row_bytes(),
                           expected.begin() + (r + 1) * g.region_row_bytes(), out.begin() + r * stride))
        << "row " << r;
    for (std::size_t k = g.region_row_bytes(); k < stride; ++k)
      ASSERT_EQ(out[r * stride + k], std::byte{0x55});
  }
}

INSTANTIATE_TEST_SUITE_P(Geometries, PlaceTilesCpu, ::testing::ValuesIn(testing::place_cases()),
                         [](const auto& test_param) { return std::string(test_param.param.name); });

PlaceGeometry small_geometry() {
  PlaceGeometry g;
  g.image_width = 20;
  g.image_height = 10;
  g.tile_width = 8;
  g.tile_height = 8;
  g.samples = 1;
  g.region_width = 20;
  g.region_height = 10;
  return g;
}

TEST(PlaceTiles, PixelsOfMissingTilesAreLeftUntouched) {
  const PlaceGeometry g = small_geometry();
  const std::vector<TileSlot> slots = {{2, 1}, {0, 0}};
  const std::vector<std::byte> tiles = testing::make_tiles(g, slots);
  std::vector<std::byte> out(200, std::byte{0x55});
  place_tiles(tiles, slots, g, out.data(), 20);
  const std::vector<std::byte> expected = testing::expected_region(g);
  for (std::size_t y = 0; y < 10; ++y) {
    for (std::size_t x = 0; x < 20; ++x) {
      const bool covered = (x < 8 && y < 8) || (x >= 16 && y >= 8);
      EXPECT_EQ(out[y * 20 + x], covered ? expected[y * 20 + x] : std::byte{0x55}) << x << "," << y;
    }
  }
}

TEST(PlaceTiles, TilesOutsideTheRegionAreSkipped) {
  PlaceGeometry g = small_geometry();
  g.region_x = 9;
  g.region_width = 6;  // inside tile column 1 only
  const std::vector<TileSlot> slots = {{0, 0}, {1, 0}, {2, 0}, {1, 1}};
  const std::vector<std::byte> tiles = testing::make_tiles(g, slots);
  std::vector<std::byte> out(60, std::byte{0x55});
  place_tiles(tiles, slots, g, out.data(), 6);
  EXPECT_EQ(out, testing::expected_region(g));
}

struct BadArguments {
  const char* name;
  PlaceGeometry geometry;
  std::vector<TileSlot> slots;
  std::size_t tiles_bytes;
  std::size_t row_stride;
  const char* message;
};

TEST(PlaceTiles, BadArgumentsAreUsageErrors) {
  const PlaceGeometry ok = small_geometry();
  auto with = [&](auto change) {
    PlaceGeometry g = ok;
    change(g);
    return g;
  };
  const std::vector<BadArguments> cases = {
      {"empty tiles", with([](PlaceGeometry& g) { g.tile_width = 0; }), {}, 0, 20, "empty tiles"},
      {"no samples", with([](PlaceGeometry& g) { g.samples = 0; }), {}, 0, 20, "0 samples"},
      {"empty region", with([](PlaceGeometry& g) { g.region_height = 0; }), {}, 0, 20, "empty region"},
      {"region past the right edge",
       with([](PlaceGeometry& g) { g.region_x = 1; }),
       {},
       0,
       20,
       "outside the image"},
      {"region past the bottom",
       with([](PlaceGeometry& g) {
         g.region_y = 10;
         g.region_height = 1;
       }),
       {},
       0,
       20,
       "outside the image"},
      {"short rows", ok, {}, 0, 19, "less than a region row"},
      {"short tile buffer", ok, {{0, 0}, {1, 0}}, 127, 20, "tile buffer"},
      {"tile outside the grid", ok, {{3, 0}}, 64, 20, "outside the grid of 3 x 2 tiles"},
      {"tile twice", ok, {{1, 1}, {0, 0}, {1, 1}}, 192, 20, "(column 1, row 1) is in two slots"},
  };
  for (const BadArguments& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<std::byte> tiles(c.tiles_bytes);
    std::vector<std::byte> out(c.row_stride * 10);
    try {
      place_tiles(tiles, c.slots, c.geometry, out.data(), c.row_stride);
      ADD_FAILURE() << "no error";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    }
  }
}

TEST(PlaceTiles, RegionTileSlotsListTouchedTilesRowByRow) {
  PlaceGeometry g = small_geometry();
  g.region_x = 7;
  g.region_y = 7;
  g.region_width = 2;
  g.region_height = 2;
  const std::vector<TileSlot> slots = region_tile_slots(g);
  ASSERT_EQ(slots.size(), 4u);
  EXPECT_EQ(slots[0].column, 0u);
  EXPECT_EQ(slots[1].column, 1u);
  EXPECT_EQ(slots[1].row, 0u);
  EXPECT_EQ(slots[2].column, 0u);
  EXPECT_EQ(slots[3].row, 1u);
}

}  // namespace
}  // namespace tilestream::slide
