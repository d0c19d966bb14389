// plan_tile_reads: tasks by file offset, the tile, read and gap limits, runs of back-to-back tiles,
// overlapping and repeated offsets, and bad limits. Table-driven: offsets in, tasks and runs out.
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
      EXPECT_LE(run.file_offset + run.count * c.limits.tile_bytes, tasks[k].offset + tasks[k].length);
    }
    EXPECT_EQ(runs, c.runs[k]);
  }
  EXPECT_EQ(seen.size(), c.offsets.size());
}

INSTANTIATE_TEST_SUITE_P(Cases, TileReadPlan, ::testing::ValuesIn(cases()),
                         [](const auto& p) { return p.param.name; });

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
