// plan_tile_reads: tasks by file offset, the tile, read and gap limits, runs of back-to-back tiles,
// overlapping and repeated offsets, and bad limits. Table-driven: offsets in, tasks and runs out.
// Parts of tiles: only the wanted bytes are read and land where they lie in their slots.
#include "tilestream/slide/tile_read_plan.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tilestream/core/error.hpp"

namespace tilestream::slide {
namespace {

struct PlanCase {
  std::string name;
  std::vector<std::uint64_t> offsets;  // of slots (column i, row 0)
  TileReadLimits limits;
  // Per task: (read offset, length), the slot columns in buffer order, and the runs (first, count).
  std::vector<std::pair<std::uint64_t, std::size_t>> reads;
  std::vector<std::vector<std::uint32_t>> columns;
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> runs;
};

std::vector<PlanCase> cases() {
  const std::size_t t = 100;  // tile bytes
  return {
      {"contiguous_one_task", {0, 100, 200, 300}, {t, 8, 800, 0}, {{0, 400}}, {{0, 1, 2, 3}}, {{{0, 4}}}},
      {"max_tiles_splits", {0, 100, 200, 300, 400}, {t, 2, 800, 0}, {{0, 200}, {200, 200}, {400, 100}},
       {{0, 1}, {2, 3}, {4}}, {{{0, 2}}, {{0, 2}}, {{0, 1}}}},
      {"max_read_splits", {0, 100, 200}, {t, 8, 250, 0}, {{0, 200}, {200, 100}}, {{0, 1}, {2}},
       {{{0, 2}}, {{0, 1}}}},
      {"sorted_by_offset", {300, 0, 200, 100}, {t, 8, 800, 0}, {{0, 400}}, {{1, 3, 2, 0}}, {{{0, 4}}}},
      {"gap_within_limit_joins_but_breaks_the_run", {0, 150, 250}, {t, 8, 800, 64}, {{0, 350}}, {{0, 1, 2}},
       {{{0, 1}, {1, 2}}}},
      {"gap_past_limit_splits", {0, 300}, {t, 8, 800, 64}, {{0, 100}, {300, 100}}, {{0}, {1}}, {{{0, 1}}, {{0, 1}}}},
      {"repeated_offset_joins_as_its_own_run", {0, 0, 100}, {t, 8, 800, 0}, {{0, 200}}, {{0, 1, 2}},
       {{{0, 1}, {1, 2}}}},
      {"one_tile_per_task", {0, 100}, {t, 1, 100, 0}, {{0, 100}, {100, 100}}, {{0}, {1}}, {{{0, 1}}, {{0, 1}}}},
      {"empty", {}, {t, 4, 400, 0}, {}, {}, {}},
  };
}

class TileReadPlan : public ::testing::TestWithParam<PlanCase> {};

TEST_P(TileReadPlan, GroupsTilesAsExpected) {
  const PlanCase& c = GetParam();
  std::vector<TileSlot> slots;
  for (std::size_t i = 0; i < c.offsets.size(); ++i) slots.push_back({static_cast<std::uint32_t>(i), 0});
  const std::vector<TileReadTask> tasks = plan_tile_reads(slots, c.offsets, c.limits);
  ASSERT_EQ(tasks.size(), c.reads.size());
  std::set<std::uint32_t> seen;
  for (std::size_t k = 0; k < tasks.size(); ++k) {
    SCOPED_TRACE(k);
    EXPECT_EQ(tasks[k].offset, c.reads[k].first);
    EXPECT_EQ(tasks[k].length, c.reads[k].second);
    EXPECT_LE(tasks[k].length, c.limits.max_read);
    EXPECT_LE(tasks[k].slots.size(), c.limits.max_tiles);
    std::vector<std::uint32_t> columns;
    for (const TileSlot& s : tasks[k].slots) {
      columns.push_back(s.column);
      EXPECT_TRUE(seen.insert(s.column).second) << "tile " << s.column << " planned twice";
    }
    EXPECT_EQ(columns, c.columns[k]);
    std::vector<std::pair<std::size_t, std::size_t>> runs;
    for (const TileRun& run : tasks[k].runs) {
      runs.emplace_back(run.first, run.count);
      // A run's tiles lie back to back from its offset, inside the task's read.
      for (std::size_t i = 0; i < run.count; ++i) {
        EXPECT_EQ(c.offsets[tasks[k].slots[run.first + i].column], run.file_offset + i * c.limits.tile_bytes);
      }
      EXPECT_GE(run.file_offset, tasks[k].offset);
      EXPECT_EQ(run.skip, 0u);
      EXPECT_EQ(run.bytes, run.count * c.limits.tile_bytes);
      EXPECT_LE(run.file_offset + run.count * c.limits.tile_bytes, tasks[k].offset + tasks[k].length);
    }
    EXPECT_EQ(runs, c.runs[k]);
  }
  EXPECT_EQ(seen.size(), c.offsets.size());
}

INSTANTIATE_TEST_SUITE_P(Cases, TileReadPlan, ::testing::ValuesIn(cases()),
                         [](const auto& p) { return p.param.name; });

// A region's halo: tiles 0-2 of a tile row back to back in the file, of which it wants the last 10
// bytes (the last row), then tiles 3-4 whole, then tile 5's first 30 bytes.
TEST(TileReadPlanParts, OnlyTheWantedBytesAreReadAndLandInPlace) {
  const std::size_t t = 100;
  std::vector<TileSlot> slots;
  for (std::uint32_t i = 0; i < 6; ++i) slots.push_back({i, 0});
  const std::vector<std::uint64_t> offsets{0, 100, 200, 300, 400, 500};
  const std::vector<TilePart> parts{{90, 100}, {90, 100}, {90, 100}, {0, 100}, {0, 100}, {0, 30}};
  const std::vector<TileReadTask> tasks = plan_tile_reads(slots, offsets, {t, 8, 800, 0}, parts);
  ASSERT_EQ(tasks.size(), 3u);  // the 80-byte gaps between the last rows split the reads (max_gap 0)
  EXPECT_EQ(tasks[0].offset, 90u);
  EXPECT_EQ(tasks[0].length, 10u);
  EXPECT_EQ(tasks[1].offset, 190u);
  EXPECT_EQ(tasks[1].length, 10u);
  // Tile 2's last row, then tiles 3 and 4 and tile 5's start follow it in the file and in the buffer.
  ASSERT_EQ(tasks[2].slots.size(), 4u);
  EXPECT_EQ(tasks[2].offset, 290u);
  EXPECT_EQ(tasks[2].length, 240u);
  ASSERT_EQ(tasks[2].runs.size(), 1u);
  const TileRun& run = tasks[2].runs[0];
  EXPECT_EQ(run.first, 0u);
  EXPECT_EQ(run.count, 4u);
  EXPECT_EQ(run.file_offset, 290u);
  EXPECT_EQ(run.skip, 90u);
  EXPECT_EQ(run.bytes, 240u);
  EXPECT_EQ(tasks[0].runs[0].skip, 90u);
  EXPECT_EQ(tasks[0].runs[0].bytes, 10u);

  // With room for gaps the last rows share one read, each its own run (not back to back).
  const std::vector<TileReadTask> joined = plan_tile_reads(slots, offsets, {t, 8, 800, 100}, parts);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].offset, 90u);
  EXPECT_EQ(joined[0].length, 440u);
  ASSERT_EQ(joined[0].runs.size(), 3u);
  EXPECT_EQ(joined[0].runs[1].file_offset, 190u);
  EXPECT_EQ(joined[0].runs[1].first, 1u);
  EXPECT_EQ(joined[0].runs[1].skip, 90u);
  EXPECT_EQ(joined[0].runs[2].bytes, 240u);
}

TEST(TileReadPlanParts, PartsThatDoNotFitAreUsageErrors) {
  const std::vector<TileSlot> slots{{0, 0}, {1, 0}};
  const std::vector<std::uint64_t> offsets{0, 100};
  const TileReadLimits limits{100, 4, 400, 0};
  EXPECT_THROW(plan_tile_reads(slots, offsets, limits, std::vector<TilePart>{{0, 100}}), UsageError);
  EXPECT_THROW(plan_tile_reads(slots, offsets, limits, std::vector<TilePart>{{0, 100}, {50, 50}}), UsageError);
  EXPECT_THROW(plan_tile_reads(slots, offsets, limits, std::vector<TilePart>{{0, 101}, {0, 100}}), UsageError);
  EXPECT_EQ(plan_tile_reads(slots, offsets, limits, std::vector<TilePart>{{0, 100}, {0, 100}})[0].runs[0].bytes, 200u);
}

TEST(TileReadPlanLimits, LimitsThatCannotHoldATileAreUsageErrors) {
  const std::vector<TileSlot> slots{{0, 0}};
  const std::vector<std::uint64_t> offsets{0};
  EXPECT_THROW(plan_tile_reads(slots, offsets, {100, 0, 100, 0}), UsageError);
  EXPECT_THROW(plan_tile_reads(slots, offsets, {100, 1, 99, 0}), UsageError);
  EXPECT_THROW(plan_tile_reads(slots, offsets, {0, 1, 100, 0}), UsageError);
  EXPECT_THROW(plan_tile_reads(slots, std::vector<std::uint64_t>{}, {100, 1, 100, 0}), UsageError);
}

}  // namespace
}  // namespace tilestream::slide
