// Which Zarr arrays ("datasets") a conversion writes, where each one's pixels come from, and the
// Zarr array spec of each. Pure functions of level sizes and options: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tilestream/convert/convert.hpp"
#include "tilestream/core/dtype.hpp"
#include "tilestream/zarr/array.hpp"

namespace tilestream::convert {

// What the planner needs to know of one slide level.
struct LevelShape {
  std::uint64_t width = 0;
  std::uint64_t height = 0;
  double downsample = 1;  // level 0 width / this width
};

struct DatasetPlan {
  std::string path;  // array path in the store ("0", "1", ...)
  std::uint64_t width = 0;
  std::uint64_t height = 0;
  // The stored slide level read for this dataset; nullopt: built by 2x area downsampling of the
  // dataset before it (which the pipeline writes first).
  std::optional<std::size_t> slide_level;
  double downsample = 1;  // relative to level 0: 2^k in a built pyramid, the level's own otherwise
};

// The datasets, largest first:
// - without `ome` (or with an explicit `levels` list): the listed slide levels (all when empty),
//   each read from the slide; without `ome` the array path is the level number, with it "0".."n-1";
// - `ome` and no list: a full 2x pyramid. Dataset k (path "k") targets ceil(level0 / 2^k); a stored
//   level whose sides are within one pixel of that target is read as is, else dataset k is built
//   from dataset k-1 with size ceil(size(k-1) / 2). It stops at the first dataset whose sides both
//   fit in one chunk.
// Throws UsageError for a listed level that does not exist or is listed twice.
std::vector<DatasetPlan> plan_datasets(std::span<const LevelShape> levels, const ConvertOptions& options);

// The Zarr array of one dataset: shape (height, width, samples) or (samples, height, width); chunks
// of options.chunk per spatial side, clipped to the image (a small level is one chunk of its own
// size), the channel axis whole; shards of options.shard likewise clipped to the chunk-rounded image.
zarr::ArraySpec dataset_array_spec(const DatasetPlan& dataset, std::uint32_t samples, DType dtype,
                                   const ConvertOptions& options);

using pipeline::AxisOrder;
using pipeline::axis_order;

}  // namespace tilestream::convert
