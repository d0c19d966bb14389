// Dataset planning: stored levels first, 2x-built levels where the slide has none (see plan.hpp).
#include "tilestream/convert/plan.hpp"

#include <algorithm>
#include <cstdlib>

#include "tilestream/core/error.hpp"

namespace tilestream::convert {
namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

bool within_one(std::uint64_t a, std::uint64_t b) { return (a > b ? a - b : b - a) <= 1; }

std::vector<DatasetPlan> listed_levels(std::span<const LevelShape> levels, const ConvertOptions& options) {
  std::vector<std::size_t> wanted = options.levels;
  if (wanted.empty())
    for (std::size_t n = 0; n < levels.size(); ++n) wanted.push_back(n);
  std::sort(wanted.begin(), wanted.end());
  std::vector<DatasetPlan> plan;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const std::size_t n = wanted[i];
    check<UsageError>(n < levels.size(), option("levels"), ": level ", n, " does not exist (the slide has ",
                      levels.size(), " levels, 0 to ", levels.size() - 1, ")");
    check<UsageError>(i == 0 || wanted[i - 1] != n, option("levels"), ": level ", n, " is listed twice");
    DatasetPlan d;
    d.path = std::to_string(options.ome ? i : n);
    d.width = levels[n].width;
    d.height = levels[n].height;
    d.slide_level = n;
    d.downsample = levels[n].downsample;
    plan.push_back(d);
  }
  return plan;
}

std::vector<DatasetPlan> full_pyramid(std::span<const LevelShape> levels, const ConvertOptions& options) {
  check<UsageError>(!levels.empty(), "the slide has no pyramid levels to convert");
  std::vector<DatasetPlan> plan;
  const LevelShape& base = levels[0];
  for (unsigned k = 0;; ++k) {
    DatasetPlan d;
    d.path = std::to_string(k);
    d.downsample = static_cast<double>(std::uint64_t{1} << k);
    const std::uint64_t target_w = ceil_div(base.width, std::uint64_t{1} << k);
    const std::uint64_t target_h = ceil_div(base.height, std::uint64_t{1} << k);
    for (std::size_t n = 0; n < levels.size(); ++n) {
      if (within_one(levels[n].width, target_w) && within_one(levels[n].height, target_h)) {
        d.slide_level = n;
        d.width = levels[n].width;
        d.height = levels[n].height;
        break;
      }
    }
    if (!d.slide_level) {
      d.width = ceil_div(plan.back().width, 2);
      d.height = ceil_div(plan.back().height, 2);
    }
    plan.push_back(d);
    if ((d.width <= options.chunk && d.height <= options.chunk) || k >= 62) break;
  }
  return plan;
}

}  // namespace

std::vector<DatasetPlan> plan_datasets(std::span<const LevelShape> levels, const ConvertOptions& options) {
  if (options.ome && options.levels.empty()) return full_pyramid(levels, options);
  return listed_levels(levels, options);
}

zarr::ArraySpec dataset_array_spec(const DatasetPlan& dataset, std::uint32_t samples, DType dtype,
                                   const ConvertOptions& options) {
  return pipeline::image_array_spec(dataset.height, dataset.width, samples, dtype,
                                    {.zarr_version = options.zarr_version,
                                     .chunk = options.chunk,
                                     .shard = options.shard,
                                     .compressors = options.compressors,
                                     .layout = effective_layout(options),
                                     .separator = options.separator});
}

void validate_options(const ConvertOptions& options) {
  pipeline::validate({.zarr_version = options.zarr_version,
                      .chunk = options.chunk,
                      .shard = options.shard,
                      .compressors = options.compressors,
                      .separator = options.separator});
  check<UsageError>(!(options.overwrite && options.resume), option("overwrite"), " and ", option("resume"),
                    " contradict each other: pick one");
}

}  // namespace tilestream::convert
