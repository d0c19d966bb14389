// Dataset planning: stored levels are used where they match the 2x pyramid, missing ones are built;
// --levels lists; array specs (chunk and shard clipping, layouts); option validation.
#include <gtest/gtest.h>

#include "tilestream/convert/plan.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::convert {
namespace {

std::vector<LevelShape> levels_of(std::initializer_list<std::pair<std::uint64_t, std::uint64_t>> sizes) {
  std::vector<LevelShape> levels;
  for (const auto& [w, h] : sizes)
    levels.push_back(
        {w, h, levels.empty() ? 1.0 : static_cast<double>(sizes.begin()->first) / static_cast<double>(w)});
  return levels;
}

struct Expect {
  std::uint64_t width, height;
  std::optional<std::size_t> level;
};

void expect_plan(const std::vector<DatasetPlan>& plan, const std::vector<Expect>& want) {
  ASSERT_EQ(plan.size(), want.size());
  for (std::size_t k = 0; k < plan.size(); ++k) {
    SCOPED_TRACE(k);
    EXPECT_EQ(plan[k].width, want[k].width);
    EXPECT_EQ(plan[k].height, want[k].height);
    EXPECT_EQ(plan[k].slide_level, want[k].level);
  }
}

TEST(Plan, OmePyramidUsesStoredLevelsAndBuildsTheRest) {
  // Level 1 is 4x (Aperio style), level 2 is 16x but one pixel off the exact ceil.
  const auto levels = levels_of({{10000, 6001}, {2500, 1501}, {626, 375}});
  ConvertOptions options;
  options.ome = true;
  options.chunk = 512;
  const auto plan = plan_datasets(levels, options);
  expect_plan(plan, {{10000, 6001, 0},
                     {5000, 3001, std::nullopt},
                     {2500, 1501, 1},
                     {1250, 751, std::nullopt},
                     {626, 375, 2},
                     {313, 188, std::nullopt}});
  for (std::size_t k = 0; k < plan.size(); ++k) {
    EXPECT_EQ(plan[k].path, std::to_string(k));
    EXPECT_DOUBLE_EQ(plan[k].downsample, static_cast<double>(1u << k));
  }
}

TEST(Plan, OmePyramidStopsAtOneChunk) {
  const auto levels = levels_of({{1000, 300}});
  ConvertOptions options;
  options.ome = true;
  options.chunk = 256;
  expect_plan(plan_datasets(levels, options),
              {{1000, 300, 0}, {500, 150, std::nullopt}, {250, 75, std::nullopt}});
  options.chunk = 4096;  // already one chunk: level 0 alone
  expect_plan(plan_datasets(levels, options), {{1000, 300, 0}});
}

TEST(Plan, WithoutOmeTheSlideLevelsAreTheDatasets) {
  const auto levels = levels_of({{4000, 3000}, {1000, 750}, {250, 188}});
  ConvertOptions options;
  auto plan = plan_datasets(levels, options);
  expect_plan(plan, {{4000, 3000, 0}, {1000, 750, 1}, {250, 188, 2}});
  EXPECT_EQ(plan[2].path, "2");
  options.levels = {2, 0};
  plan = plan_datasets(levels, options);
  expect_plan(plan, {{4000, 3000, 0}, {250, 188, 2}});
  EXPECT_EQ(plan[1].path, "2");  // paths are level numbers
  EXPECT_DOUBLE_EQ(plan[1].downsample, 16.0);
  options.ome = true;  // OME with a list: those levels, paths 0..n-1
  plan = plan_datasets(levels, options);
  EXPECT_EQ(plan[1].path, "1");
  EXPECT_EQ(plan[1].slide_level, std::optional<std::size_t>(2));
}

TEST(Plan, BadLevelListsAreUsageErrors) {
  const auto levels = levels_of({{4000, 3000}, {1000, 750}});
  ConvertOptions options;
  options.levels = {2};
  EXPECT_THROW(plan_datasets(levels, options), UsageError);
  options.levels = {1, 1};
  EXPECT_THROW(plan_datasets(levels, options), UsageError);
}

TEST(Plan, ArraySpecClipsChunksAndShardsToTheImage) {
  ConvertOptions options;
  options.chunk = 256;
  options.shard = 1024;
  DatasetPlan big{"0", 3000, 700, 0, 1};
  auto spec = dataset_array_spec(big, 3, DType::uint8, options);
  EXPECT_EQ(spec.shape, (std::vector<std::uint64_t>{700, 3000, 3}));
  EXPECT_EQ(spec.chunk_shape, (std::vector<std::uint64_t>{256, 256, 3}));
  EXPECT_EQ(spec.shard_shape, (std::vector<std::uint64_t>{768, 1024, 3}));
  EXPECT_EQ(spec.dimension_names, (std::vector<std::string>{"y", "x", "c"}));
  EXPECT_NO_THROW(spec.validate());
  DatasetPlan small{"5", 90, 40, std::nullopt, 32};
  options.layout = Layout::cyx;
  spec = dataset_array_spec(small, 1, DType::uint16, options);
  EXPECT_EQ(spec.shape, (std::vector<std::uint64_t>{1, 40, 90}));
  EXPECT_EQ(spec.chunk_shape, (std::vector<std::uint64_t>{1, 40, 90}));
  EXPECT_EQ(spec.shard_shape, (std::vector<std::uint64_t>{1, 40, 90}));
  EXPECT_EQ(spec.dimension_names, (std::vector<std::string>{"c", "y", "x"}));
  EXPECT_NO_THROW(spec.validate());
}

TEST(Plan, OptionValidation) {
  const auto bad = [](auto change) {
    ConvertOptions options;
    change(options);
    return options;
  };
  EXPECT_THROW(validate_options(bad([](ConvertOptions& o) {
                 o.zarr_version = 2;
                 o.shard = 1024;
               })),
               UsageError);
  EXPECT_THROW(validate_options(bad([](ConvertOptions& o) {
                 o.chunk = 256;
                 o.shard = 600;
               })),
               UsageError);
  EXPECT_THROW(validate_options(bad([](ConvertOptions& o) { o.overwrite = o.resume = true; })), UsageError);
  EXPECT_THROW(validate_options(bad([](ConvertOptions& o) { o.zarr_version = 4; })), UsageError);
  EXPECT_THROW(validate_options(bad([](ConvertOptions& o) { o.chunk = 0; })), UsageError);
  EXPECT_NO_THROW(validate_options(bad([](ConvertOptions& o) {
    o.chunk = 256;
    o.shard = 1024;
  })));
  EXPECT_EQ(effective_layout(bad([](ConvertOptions& o) { o.ome = true; })), Layout::cyx);
}

}  // namespace
}  // namespace tilestream::convert
