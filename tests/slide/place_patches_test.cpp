// The plan of a patch batch and the CPU reference of placing it: each tile the patches touch listed
// once, in tile-number order, with its pieces in one run; `outside` naming exactly the patches not
// wholly inside; and the stacked patches, placed tile batch by tile batch in any split and order,
// equal to a direct crop of the level (the pixels outside it left as they were); bad arguments are
// usage errors. A plan split in two (split_plan) keeps every tile once, each with its own pieces, and
// the two halves placed apart give the whole plan's bytes; the CPU share's draw per tile number
// (cpu_share_tile) is fixed, takes the share asked for and only grows with it.
#include "tilestream/slide/place_patches.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "support/place_patches_cases.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::slide {
namespace {

using tilestream::testing::PatchCase;

constexpr std::byte untouched{0x55};

std::uint64_t tile_number(const PatchGeometry& g, std::uint64_t column, std::uint64_t row) {
  return row * ((g.image_width + g.tile_width - 1) / g.tile_width) + column;
}

// A piece as the plan should hold it, and the tile (by number) it comes from.
using PieceKey = std::tuple<std::uint32_t, std::int64_t, std::int64_t, std::uint32_t, std::uint32_t>;

// What the plan should hold, worked out per patch from its part inside the level.
struct ExpectedPlan {
  std::set<std::uint64_t> tiles;  // by number
  std::vector<PieceKey> pieces;   // sorted
  std::set<std::uint32_t> outside;
};

ExpectedPlan expected_plan(const PatchGeometry& g, std::span<const PatchCorner> corners) {
  ExpectedPlan e;
  const auto W = static_cast<std::int64_t>(g.image_width), H = static_cast<std::int64_t>(g.image_height);
  for (const PatchCorner& p : corners) {
    if (!testing::wholly_inside(g, p)) e.outside.insert(p.index);
    const std::int64_t left = std::max<std::int64_t>(p.x, 0), top = std::max<std::int64_t>(p.y, 0);
    const std::int64_t right = std::min(p.x + static_cast<std::int64_t>(g.patch_width), W);
    const std::int64_t bottom = std::min(p.y + static_cast<std::int64_t>(g.patch_height), H);
    // Every pixel of the inside part, and the tile it lies in (slow and plain on purpose).
    std::set<std::pair<std::uint32_t, std::uint32_t>> touched;
    for (std::int64_t y = top; y < bottom; ++y) {
      for (std::int64_t x = left; x < right; ++x) {
        touched.emplace(static_cast<std::uint32_t>(x / g.tile_width),
                        static_cast<std::uint32_t>(y / g.tile_height));
      }
    }
    for (const auto& [column, row] : touched) {
      e.tiles.insert(tile_number(g, column, row));
      e.pieces.emplace_back(p.index, p.x, p.y, column, row);
    }
  }
  std::sort(e.pieces.begin(), e.pieces.end());
  return e;
}

class PlacePatchesCpu : public ::testing::TestWithParam<PatchCase> {};

TEST_P(PlacePatchesCpu, PlanListsEachTileOnceInOrderWithItsPieces) {
  const PatchGeometry& g = GetParam().geometry;
  const testing::PatchBatch batch = testing::edge_case_patches(g, 7);
  const PatchPlan plan = plan_patches(g, batch.corners, batch.count);
  const ExpectedPlan e = expected_plan(g, batch.corners);

  std::vector<std::uint64_t> numbers;
  for (const TileSlot& t : plan.tiles) numbers.push_back(tile_number(g, t.column, t.row));
  EXPECT_EQ(numbers, std::vector<std::uint64_t>(e.tiles.begin(), e.tiles.end()))
      << "the tiles the patches touch, once each, in tile-number order";

  ASSERT_EQ(plan.first_piece.size(), plan.tiles.size() + 1);
  EXPECT_EQ(plan.first_piece.front(), 0u);
  EXPECT_EQ(plan.first_piece.back(), plan.pieces.size());
  std::vector<PieceKey> pieces;
  for (std::size_t t = 0; t < plan.tiles.size(); ++t) {
    ASSERT_LT(plan.first_piece[t], plan.first_piece[t + 1]) << "tile " << t << " has no piece";
    for (const PatchPiece& p : plan.pieces_of(t, 1)) {
      EXPECT_EQ(p.tile, t);
      EXPECT_EQ(p.column, plan.tiles[t].column);
      EXPECT_EQ(p.row, plan.tiles[t].row);
      pieces.emplace_back(p.index, p.x, p.y, p.column, p.row);
    }
  }
  std::sort(pieces.begin(), pieces.end());
  EXPECT_EQ(pieces, e.pieces) << "one piece per patch and tile it overlaps inside the level";

  const std::set<std::uint32_t> outside(plan.outside.begin(), plan.outside.end());
  EXPECT_EQ(outside, e.outside);
  EXPECT_EQ(outside.count(batch.unnamed), 0u);
}

// Tiles decoded in batches of `split` (the reader's way): the stacked patches equal a crop of the level
// in every split, and in reverse batch order. Pixels outside the level are not written (the caller
// zeroes those patches): prefilled with zeros they read as zeros, prefilled otherwise they keep it.
TEST_P(PlacePatchesCpu, PlacedBatchByBatchEqualsACropOfTheLevel) {
  const PatchGeometry& g = GetParam().geometry;
  const std::vector<std::byte> level = testing::random_level(g, 3);
  const testing::PatchBatch batch = testing::edge_case_patches(g, 11);
  const PatchPlan plan = plan_patches(g, batch.corners, batch.count);
  const std::vector<std::byte> zeros_outside =
      testing::expected_patches(g, level, batch.corners, batch.count, std::byte{0}, std::byte{0});
  const std::vector<std::byte> untouched_outside =
      testing::expected_patches(g, level, batch.corners, batch.count, untouched, untouched);
  const std::size_t tiles = plan.tiles.size();
  for (const std::size_t split : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5}, tiles}) {
    for (const bool reverse : {false, true}) {
      SCOPED_TRACE(concat(split, " tiles a batch", reverse ? ", last batch first" : ""));
      std::vector<std::size_t> firsts;
      for (std::size_t first = 0; first < tiles; first += std::max<std::size_t>(split, 1))
        firsts.push_back(first);
      if (reverse) std::reverse(firsts.begin(), firsts.end());
      std::vector<std::byte> zeroed(batch.count * g.patch_bytes(), std::byte{0});
      std::vector<std::byte> filled(batch.count * g.patch_bytes(), untouched);
      for (const std::size_t first : firsts) {
        const std::size_t count = std::min(split, tiles - first);
        const std::vector<std::byte> decoded =
            testing::cut_tiles(g, level, std::span<const TileSlot>(plan.tiles).subspan(first, count));
        const auto base = static_cast<std::uint32_t>(first);
        place_patch_pieces(decoded, base, plan.pieces_of(first, count), g, zeroed.data());
        place_patch_pieces(decoded, base, plan.pieces_of(first, count), g, filled.data());
      }
      EXPECT_TRUE(zeroed == zeros_outside);
      EXPECT_TRUE(filled == untouched_outside);
      // Where it differs, the first patch and pixel that do.
      const auto [a, b] = std::mismatch(zeroed.begin(), zeroed.end(), zeros_outside.begin());
      if (a != zeroed.end()) {
        const std::size_t at = static_cast<std::size_t>(a - zeroed.begin());
        const std::size_t patch = at / g.patch_bytes(), in = at % g.patch_bytes();
        ADD_FAILURE() << "patch " << patch << ", row " << in / g.patch_row_bytes() << ", pixel "
                      << in % g.patch_row_bytes() / g.pixel_bytes() << ": " << int(*a) << " for " << int(*b);
      }
    }
  }
}

// Ways of choosing the tiles split_plan takes, by tile number: none, all, every other one, and a
// random half (fixed by the geometry's tile count).
struct TakeRule {
  const char* name;
  std::function<bool(std::uint64_t)> take;
};

std::vector<TakeRule> take_rules(const PatchGeometry& g) {
  const std::uint64_t tiles = tile_number(g, 0, (g.image_height + g.tile_height - 1) / g.tile_height);
  std::vector<bool> drawn(static_cast<std::size_t>(tiles));
  std::mt19937 rng(static_cast<std::uint32_t>(tiles));
  for (std::size_t n = 0; n < drawn.size(); ++n) drawn[n] = (rng() & 1u) != 0;
  return {
      {"none", [](std::uint64_t) { return false; }},
      {"all", [](std::uint64_t) { return true; }},
      {"even numbers", [](std::uint64_t n) { return n % 2 == 0; }},
      {"odd numbers", [](std::uint64_t n) { return n % 2 == 1; }},
      {"a random half",
       [drawn](std::uint64_t n) { return static_cast<bool>(drawn.at(static_cast<std::size_t>(n))); }},
  };
}

// A piece with every field, its tile position included.
using FullPiece =
    std::tuple<std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t, std::int64_t, std::int64_t>;

FullPiece full(const PatchPiece& p) { return {p.tile, p.column, p.row, p.index, p.x, p.y}; }

// What one half of a split should hold: the plan's tiles the rule picks (or does not), in the plan's
// order, each followed by its pieces in the plan's order with the tile's new position.
struct ExpectedHalf {
  std::vector<std::uint64_t> numbers;
  std::vector<FullPiece> pieces;
  std::vector<std::size_t> first_piece{0};
};

ExpectedHalf expected_half(const PatchGeometry& g, const PatchPlan& plan, const TakeRule& rule, bool taken) {
  ExpectedHalf e;
  for (std::size_t t = 0; t < plan.tiles.size(); ++t) {
    const std::uint64_t number = tile_number(g, plan.tiles[t].column, plan.tiles[t].row);
    if (rule.take(number) != taken) continue;
    for (PatchPiece p : plan.pieces_of(t, 1)) {
      p.tile = static_cast<std::uint32_t>(e.numbers.size());
      e.pieces.push_back(full(p));
    }
    e.numbers.push_back(number);
    e.first_piece.push_back(e.pieces.size());
  }
  return e;
}

void expect_half(const PatchGeometry& g, const PatchPlan& half, const ExpectedHalf& e) {
  std::vector<std::uint64_t> numbers;
  for (const TileSlot& t : half.tiles) numbers.push_back(tile_number(g, t.column, t.row));
  EXPECT_EQ(numbers, e.numbers) << "the tiles, in the plan's order";
  EXPECT_EQ(half.first_piece, e.first_piece);
  std::vector<FullPiece> pieces;
  for (const PatchPiece& p : half.pieces) pieces.push_back(full(p));
  EXPECT_EQ(pieces, e.pieces) << "each tile's pieces, in order, with its new position";
  // Each piece names its own tile: the position's column and row, inside pieces_of(position).
  ASSERT_EQ(half.first_piece.size(), half.tiles.size() + 1);
  for (std::size_t t = 0; t < half.tiles.size(); ++t) {
    for (const PatchPiece& p : half.pieces_of(t, 1)) {
      EXPECT_EQ(p.tile, t);
      EXPECT_EQ(p.column, half.tiles[t].column);
      EXPECT_EQ(p.row, half.tiles[t].row);
    }
  }
}

TEST_P(PlacePatchesCpu, SplitPlansHoldEveryTileOnceWithItsOwnPieces) {
  const PatchGeometry& g = GetParam().geometry;
  const testing::PatchBatch batch = testing::edge_case_patches(g, 13);
  const PatchPlan plan = plan_patches(g, batch.corners, batch.count);
  ASSERT_FALSE(plan.tiles.empty());
  for (const TakeRule& rule : take_rules(g)) {
    SCOPED_TRACE(rule.name);
    std::vector<std::uint64_t> asked;  // the tiles the rule was asked about, in order
    const SplitPlan split = split_plan(plan, [&](const TileSlot& t) {
      asked.push_back(tile_number(g, t.column, t.row));
      return rule.take(asked.back());
    });
    const ExpectedHalf taken = expected_half(g, plan, rule, true);
    const ExpectedHalf rest = expected_half(g, plan, rule, false);
    {
      SCOPED_TRACE("taken");
      expect_half(g, split.taken, taken);
    }
    {
      SCOPED_TRACE("rest");
      expect_half(g, split.rest, rest);
    }
    // Together every tile once, and every piece once.
    std::vector<std::uint64_t> all = taken.numbers, in_plan;
    all.insert(all.end(), rest.numbers.begin(), rest.numbers.end());
    std::sort(all.begin(), all.end());
    for (const TileSlot& t : plan.tiles) in_plan.push_back(tile_number(g, t.column, t.row));
    EXPECT_EQ(all, in_plan);
    EXPECT_EQ(asked, in_plan) << "each tile asked about once, in the plan's order";
    EXPECT_EQ(split.taken.pieces.size() + split.rest.pieces.size(), plan.pieces.size());
    EXPECT_TRUE(split.taken.outside.empty());
    EXPECT_EQ(split.rest.outside, plan.outside);
  }
}

// The halves placed apart, each from a tile buffer of its own tiles and in either order, give the
// whole plan's bytes (and a crop of the level).
TEST_P(PlacePatchesCpu, SplitPlansPlacedApartEqualTheWholePlan) {
  const PatchGeometry& g = GetParam().geometry;
  const std::vector<std::byte> level = testing::random_level(g, 17);
  const testing::PatchBatch batch = testing::edge_case_patches(g, 19);
  const PatchPlan plan = plan_patches(g, batch.corners, batch.count);
  std::vector<std::byte> whole(batch.count * g.patch_bytes(), untouched);
  place_patch_pieces(testing::cut_tiles(g, level, plan.tiles), 0, plan.pieces, g, whole.data());
  EXPECT_TRUE(whole == testing::expected_patches(g, level, batch.corners, batch.count, untouched, untouched));
  for (const TakeRule& rule : take_rules(g)) {
    const SplitPlan split =
        split_plan(plan, [&](const TileSlot& t) { return rule.take(tile_number(g, t.column, t.row)); });
    for (const bool rest_first : {false, true}) {
      SCOPED_TRACE(concat(rule.name, rest_first ? ", rest first" : ", taken first"));
      std::vector<std::byte> out(batch.count * g.patch_bytes(), untouched);
      for (const PatchPlan* half :
           rest_first ? std::vector{&split.rest, &split.taken} : std::vector{&split.taken, &split.rest}) {
        const std::vector<std::byte> tiles = testing::cut_tiles(g, level, half->tiles);
        place_patch_pieces(tiles, 0, half->pieces, g, out.data());
      }
      EXPECT_TRUE(out == whole);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Geometries, PlacePatchesCpu, ::testing::ValuesIn(testing::patch_cases()),
                         [](const auto& test_param) { return std::string(test_param.param.name); });

PatchGeometry small_geometry() {
  PatchGeometry g;
  g.image_width = 20;
  g.image_height = 10;
  g.tile_width = 8;
  g.tile_height = 8;
  g.patch_width = 6;
  g.patch_height = 4;
  return g;
}

// A patch ending exactly on the level's right and bottom edges is inside; one pixel further it is not,
// and one touching an edge from outside gets no piece.
TEST(PlanPatches, EdgesAreExact) {
  const PatchGeometry g = small_geometry();
  const std::vector<PatchCorner> corners = {{14, 6, 0}, {15, 6, 1}, {14, 7, 2},
                                            {-6, 0, 3}, {20, 0, 4}, {0, 10, 5}};
  const PatchPlan plan = plan_patches(g, corners, 6);
  EXPECT_EQ(std::set<std::uint32_t>(plan.outside.begin(), plan.outside.end()),
            (std::set<std::uint32_t>{1, 2, 3, 4, 5}));
  // Patches 0 to 2 cover columns 1 and 2 of rows 0 and 1: tiles 1, 2, 4, 5.
  ASSERT_EQ(plan.tiles.size(), 4u);
  const std::vector<std::pair<std::uint32_t, std::uint32_t>> want = {{1, 0}, {2, 0}, {1, 1}, {2, 1}};
  for (std::size_t t = 0; t < want.size(); ++t) {
    EXPECT_EQ(plan.tiles[t].column, want[t].first) << t;
    EXPECT_EQ(plan.tiles[t].row, want[t].second) << t;
  }
  EXPECT_EQ(plan.pieces.size(), 12u);
  for (const PatchPiece& p : plan.pieces) EXPECT_LT(p.index, 3u);
}

TEST(PlanPatches, NoPatchesOrNoneInsideGiveNoTiles) {
  const PatchGeometry g = small_geometry();
  const PatchPlan none = plan_patches(g, {}, 0);
  EXPECT_TRUE(none.tiles.empty());
  EXPECT_TRUE(none.pieces.empty());
  EXPECT_TRUE(none.outside.empty());
  ASSERT_EQ(none.first_piece, std::vector<std::size_t>{0});
  EXPECT_TRUE(none.pieces_of(0, 0).empty());

  const std::vector<PatchCorner> away = {{-6, -4, 1}, {100, 3, 0}};
  const PatchPlan outside = plan_patches(g, away, 2);
  EXPECT_TRUE(outside.tiles.empty());
  EXPECT_TRUE(outside.pieces.empty());
  EXPECT_EQ(outside.first_piece, std::vector<std::size_t>{0});
  EXPECT_EQ(std::set<std::uint32_t>(outside.outside.begin(), outside.outside.end()),
            (std::set<std::uint32_t>{0, 1}));
}

// Placing writes only the covered pixels of the named patches, at their places.
TEST(PlacePatches, OnlyCoveredPixelsOfNamedPatchesAreWritten) {
  PatchGeometry g = small_geometry();
  const std::vector<std::byte> level = testing::random_level(g, 5);
  const std::vector<PatchCorner> corners = {{-2, 7, 2}, {5, 1, 0}};
  const PatchPlan plan = plan_patches(g, corners, 4);
  const std::vector<std::byte> tiles = testing::cut_tiles(g, level, plan.tiles);
  std::vector<std::byte> out(4 * g.patch_bytes(), untouched);
  place_patch_pieces(tiles, 0, plan.pieces, g, out.data());
  EXPECT_EQ(out, testing::expected_patches(g, level, corners, 4, untouched, untouched));
  // Patch 2 covers level pixels x 0-3, y 7-9: its rows 0-2, columns 2-5.
  for (std::size_t r = 0; r < g.patch_height; ++r) {
    for (std::size_t c = 0; c < g.patch_width; ++c) {
      const std::byte got = out[2 * g.patch_bytes() + r * g.patch_row_bytes() + c];
      if (r < 3 && c >= 2) {
        EXPECT_EQ(got, level[(7 + r) * 20 + (c - 2)]) << r << "," << c;
      } else {
        EXPECT_EQ(got, untouched) << r << "," << c;
      }
    }
  }
}

struct BadPlan {
  const char* name;
  PatchGeometry geometry;
  std::vector<PatchCorner> corners;
  std::size_t count;
  const char* message;
};

TEST(PlanPatches, BadArgumentsAreUsageErrors) {
  const PatchGeometry ok = small_geometry();
  auto with = [&](auto change) {
    PatchGeometry g = ok;
    change(g);
    return g;
  };
  const std::vector<BadPlan> cases = {
      {"no patch width",
       with([](PatchGeometry& g) { g.patch_width = 0; }),
       {{0, 0, 0}},
       1,
       "empty patches 0 x 4"},
      {"no patch height", with([](PatchGeometry& g) { g.patch_height = 0; }), {}, 0, "empty patches 6 x 0"},
      {"no tile width", with([](PatchGeometry& g) { g.tile_width = 0; }), {{0, 0, 0}}, 1, "empty tiles"},
      {"no tile height", with([](PatchGeometry& g) { g.tile_height = 0; }), {{0, 0, 0}}, 1, "empty tiles"},
      {"empty level",
       with([](PatchGeometry& g) { g.image_height = 0; }),
       {{0, 0, 0}},
       1,
       "empty tiles or level"},
      {"index at the count", ok, {{0, 0, 0}, {1, 1, 3}}, 3, "patch index 3 past the batch's 3 patches"},
      {"index far past it", ok, {{0, 0, 70000}}, 2, "patch index 70000"},
      {"an index in an empty batch", ok, {{0, 0, 0}}, 0, "patch index 0 past the batch's 0 patches"},
      {"index of a patch outside", ok, {{-100, -100, 1}}, 1, "patch index 1"},
      {"too far away", ok, {{std::int64_t{1} << 41, 0, 0}}, 1, "too far from the level"},
  };
  for (const BadPlan& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      (void)plan_patches(c.geometry, c.corners, c.count);
      ADD_FAILURE() << "no error";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    }
  }
}

// A piece whose tile is not in the buffer given (before tile_base, or past its end) is a usage error,
// never a read past the buffer.
TEST(PlacePatches, PiecesOfTilesNotInTheBufferAreUsageErrors) {
  const PatchGeometry g = small_geometry();
  const std::vector<std::byte> level = testing::random_level(g, 5);
  const std::vector<PatchCorner> corners = {{5, 5, 0}};  // tiles 0, 1, 3, 4
  const PatchPlan plan = plan_patches(g, corners, 1);
  ASSERT_EQ(plan.tiles.size(), 4u);
  const std::vector<std::byte> tiles =
      testing::cut_tiles(g, level, std::span<const TileSlot>(plan.tiles).subspan(1, 2));
  std::vector<std::byte> out(g.patch_bytes());
  EXPECT_NO_THROW(place_patch_pieces(tiles, 1, plan.pieces_of(1, 2), g, out.data()));
  EXPECT_THROW(place_patch_pieces(tiles, 1, plan.pieces_of(0, 2), g, out.data()),
               UsageError);  // tile 0 < base
  EXPECT_THROW(place_patch_pieces(tiles, 1, plan.pieces_of(1, 3), g, out.data()),
               UsageError);  // tile 3 past it
  EXPECT_THROW(place_patch_pieces(std::span<const std::byte>(tiles).first(tiles.size() - 1), 1,
                                  plan.pieces_of(1, 2), g, out.data()),
               UsageError);  // the second tile one byte short
}

// Splitting a plan without tiles gives two plans without tiles; patches wholly outside stay with the
// rest.
TEST(SplitPlan, PlansWithoutTilesSplitIntoPlansWithoutTiles) {
  const PatchGeometry g = small_geometry();
  for (const bool take : {false, true}) {
    const SplitPlan none = split_plan(plan_patches(g, {}, 0), [&](const TileSlot&) { return take; });
    for (const PatchPlan* half : {&none.taken, &none.rest}) {
      EXPECT_TRUE(half->tiles.empty());
      EXPECT_TRUE(half->pieces.empty());
      EXPECT_TRUE(half->outside.empty());
      EXPECT_EQ(half->first_piece, std::vector<std::size_t>{0});
      EXPECT_TRUE(half->pieces_of(0, 0).empty());
    }
    const std::vector<PatchCorner> away = {{-6, -4, 1}, {100, 3, 0}};
    const PatchPlan outside = plan_patches(g, away, 2);
    const SplitPlan split = split_plan(outside, [&](const TileSlot&) { return take; });
    EXPECT_TRUE(split.taken.outside.empty());
    EXPECT_EQ(split.rest.outside, outside.outside);
    EXPECT_EQ(split.taken.first_piece, std::vector<std::size_t>{0});
    EXPECT_EQ(split.rest.first_piece, std::vector<std::size_t>{0});
  }
}

// The numbers 0 to count - 1 from `first` that are in the share.
std::vector<bool> share_of(std::uint64_t first, std::size_t count, double share) {
  std::vector<bool> in(count);
  for (std::size_t k = 0; k < count; ++k) in[k] = cpu_share_tile(first + k, share);
  return in;
}

double fraction(const std::vector<bool>& in) {
  return static_cast<double>(std::count(in.begin(), in.end(), true)) / static_cast<double>(in.size());
}

TEST(CpuShareTile, NothingAtZeroAndEverythingAtOne) {
  constexpr std::uint64_t last = std::numeric_limits<std::uint64_t>::max();
  for (const std::uint64_t first : {std::uint64_t{0}, std::uint64_t{1} << 40, last - 9999}) {
    SCOPED_TRACE(first);
    for (const double share : {0.0, -0.5, -std::numeric_limits<double>::infinity()})
      EXPECT_EQ(fraction(share_of(first, 10000, share)), 0.0) << share;
    for (const double share : {1.0, 1.5, std::numeric_limits<double>::infinity()})
      EXPECT_EQ(fraction(share_of(first, 10000, share)), 1.0) << share;
  }
}

// The same tiles on every call, and about the share asked for, over any run of tile numbers, even and
// odd numbers alike and neighbours drawn apart (a level's rows and columns are not taken whole).
TEST(CpuShareTile, AFixedDrawOfTheShareAskedFor) {
  constexpr std::size_t count = 100000;
  for (const std::uint64_t first : {std::uint64_t{0}, std::uint64_t{123456789}, std::uint64_t{1} << 40}) {
    for (const double share : {0.05, 0.2, 0.35, 0.5, 0.9}) {
      SCOPED_TRACE(concat("from ", first, ", share ", share));
      const std::vector<bool> in = share_of(first, count, share);
      EXPECT_TRUE(in == share_of(first, count, share)) << "a second draw differs";
      EXPECT_NEAR(fraction(in), share, 0.01);
      std::vector<bool> even, odd;
      std::size_t pairs = 0;
      for (std::size_t k = 0; k < count; ++k) {
        ((first + k) % 2 == 0 ? even : odd).push_back(in[k]);
        if (k > 0 && in[k] && in[k - 1]) ++pairs;
      }
      EXPECT_NEAR(fraction(even), share, 0.015);
      EXPECT_NEAR(fraction(odd), share, 0.015);
      EXPECT_NEAR(static_cast<double>(pairs) / (count - 1), share * share, 0.01) << "neighbours both taken";
    }
  }
}

// A larger share only adds tiles: a tile in the CPU's share stays there as the share grows.
TEST(CpuShareTile, ALargerShareOnlyAddsTiles) {
  constexpr std::size_t count = 100000;
  const std::vector<double> shares = {0.0, 0.1, 0.2, 0.2000001, 0.3, 0.35, 0.5, 0.9, 0.999, 1.0};
  std::vector<bool> smaller = share_of(0, count, shares.front());
  for (std::size_t s = 1; s < shares.size(); ++s) {
    SCOPED_TRACE(concat(shares[s - 1], " to ", shares[s]));
    const std::vector<bool> larger = share_of(0, count, shares[s]);
    std::size_t lost = 0;
    for (std::size_t k = 0; k < count; ++k) {
      if (smaller[k] && !larger[k]) ++lost;
    }
    EXPECT_EQ(lost, 0u);
    EXPECT_GE(std::count(larger.begin(), larger.end(), true),
              std::count(smaller.begin(), smaller.end(), true));
    smaller = larger;
  }
}

// Patch positions: none at 0, all at 1, the same positions on every call, about the share asked for
// over a grid of positions (negative ones too: patches may start left of or above the level), rows,
// columns and horizontal neighbours drawn apart, and a larger share only adds positions.
TEST(CpuSharePatch, AFixedDrawOfPositions) {
  std::vector<std::pair<std::int64_t, std::int64_t>> positions;
  for (std::int64_t y = -300; y < 300 * 37; y += 37)
    for (std::int64_t x = -500; x < 500 * 53; x += 53) positions.emplace_back(x, y);
  const auto draw = [&](double share) {
    std::vector<bool> in(positions.size());
    for (std::size_t k = 0; k < positions.size(); ++k) in[k] = cpu_share_patch(positions[k].first, positions[k].second, share);
    return in;
  };
  EXPECT_EQ(fraction(draw(0.0)), 0.0);
  EXPECT_EQ(fraction(draw(-1.0)), 0.0);
  EXPECT_EQ(fraction(draw(1.0)), 1.0);
  std::vector<bool> smaller = draw(0.0);
  for (const double share : {0.1, 0.3, 0.5, 0.9}) {
    SCOPED_TRACE(share);
    const std::vector<bool> in = draw(share);
    EXPECT_TRUE(in == draw(share)) << "a second draw differs";
    EXPECT_NEAR(fraction(in), share, 0.015);
    std::size_t pairs = 0;
    for (std::size_t k = 1; k < in.size(); ++k)
      if (in[k] && in[k - 1] && positions[k].second == positions[k - 1].second) ++pairs;
    EXPECT_NEAR(static_cast<double>(pairs) / static_cast<double>(in.size()), share * share, 0.015)
        << "neighbours both taken";
    std::vector<bool> column;  // x fixed: the draw varies along y too
    for (std::size_t k = 0; k < in.size(); ++k)
      if (positions[k].first == -500) column.push_back(in[k]);
    EXPECT_NEAR(fraction(column), share, 0.1);
    for (std::size_t k = 0; k < in.size(); ++k) EXPECT_FALSE(smaller[k] && !in[k]) << "position " << k << " left";
    smaller = in;
  }
}

}  // namespace
}  // namespace tilestream::slide
