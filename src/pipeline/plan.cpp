// plan_chunks: the output chunk grid and each chunk's source box through the chain.
#include "tilestream/pipeline/plan.hpp"

#include <algorithm>

#include "tilestream/core/error.hpp"

namespace tilestream::pipeline {

void validate(const ArrayOptions& options) {
  check<UsageError>(options.zarr_version == 2 || options.zarr_version == 3, option("zarr_version"),
                    " must be 2 or 3, not ", options.zarr_version);
  check<UsageError>(options.chunk > 0, option("chunk"), " must be at least 1");
  check<UsageError>(options.shard == 0 || options.zarr_version == 3, option("shard"), " needs ",
                    option("zarr_version"), " 3 (Zarr v2 has no sharding)");
  check<UsageError>(options.shard == 0 || options.shard % options.chunk == 0, option("shard"), " (", options.shard,
                    ") must be a multiple of ", option("chunk"), " (", options.chunk, ")");
  check<UsageError>(options.zarr_version == 3 || options.compressors.size() <= 1,
                    "Zarr v2 takes at most one compressor (", option("compressors"), ")");
  check<UsageError>(options.separator == '/' || options.separator == '.', option("separator"),
                    " must be '.' or '/'");
}

zarr::ArraySpec image_array_spec(std::uint64_t height, std::uint64_t width, std::uint32_t samples, DType dtype,
                                 const ArrayOptions& options) {
  const AxisOrder axes = axis_order(options.layout);
  zarr::ArraySpec spec;
  spec.zarr_format = options.zarr_version;
  spec.dtype = dtype;
  spec.fill_value = 0;
  spec.separator = options.separator;
  spec.compressors = options.compressors;
  spec.shape.assign(3, samples);
  spec.shape[axes.y] = height;
  spec.shape[axes.x] = width;
  spec.chunk_shape.assign(3, samples);
  spec.chunk_shape[axes.y] = std::min(options.chunk, height);
  spec.chunk_shape[axes.x] = std::min(options.chunk, width);
  if (options.shard > 0) {
    spec.shard_shape.assign(3, samples);
    for (const std::size_t axis : {axes.y, axes.x}) {
      const std::uint64_t chunk = spec.chunk_shape[axis];
      // Shard clipped to the image rounded up to whole chunks: still a multiple of the chunk.
      spec.shard_shape[axis] = std::min(options.shard, (spec.shape[axis] + chunk - 1) / chunk * chunk);
      if (spec.chunk_shape[axis] < options.chunk) spec.shard_shape[axis] = chunk;
    }
  }
  if (options.zarr_version == 3)
    spec.dimension_names = options.layout == Layout::cyx ? std::vector<std::string>{"c", "y", "x"}
                                                         : std::vector<std::string>{"y", "x", "c"};
  return spec;
}

std::array<std::uint64_t, 3> block_coords(const ChunkTask& task, Layout layout) {
  std::array<std::uint64_t, 3> coords{0, 0, 0};
  const AxisOrder axes = axis_order(layout);
  coords[axes.y] = task.row;
  coords[axes.x] = task.col;
  return coords;
}

ChunkPlan plan_chunks(const ops::Chain& chain, const ops::ImageShape& input, std::uint64_t chunk) {
  check<UsageError>(chunk > 0, "chunk side must be at least 1");
  const ops::ImageShape output = chain.output_shape(input);
  return plan_blocks(chain, input, std::min(chunk, output.height), std::min(chunk, output.width));
}

ChunkPlan plan_blocks(const ops::Chain& chain, const ops::ImageShape& input, std::uint64_t block_height,
                      std::uint64_t block_width) {
  check<UsageError>(block_height > 0 && block_width > 0, "block sides must be at least 1");
  ChunkPlan plan;
  plan.input = input;
  plan.output = chain.output_shape(input);
  plan.chunk_height = block_height;
  plan.chunk_width = block_width;
  plan.grid_rows = (plan.output.height + plan.chunk_height - 1) / plan.chunk_height;
  plan.grid_cols = (plan.output.width + plan.chunk_width - 1) / plan.chunk_width;
  plan.tasks.reserve(plan.grid_rows * plan.grid_cols);
  for (std::uint64_t r = 0; r < plan.grid_rows; ++r) {
    for (std::uint64_t c = 0; c < plan.grid_cols; ++c) {
      ChunkTask task;
      task.row = r;
      task.col = c;
      task.out = {r * plan.chunk_height, c * plan.chunk_width,
                  std::min(plan.chunk_height, plan.output.height - r * plan.chunk_height),
                  std::min(plan.chunk_width, plan.output.width - c * plan.chunk_width)};
      task.in = chain.input_box(task.out, input);
      plan.tasks.push_back(task);
    }
  }
  // The largest over all tasks: interior chunks usually, but not always (downsampling, clipping).
  for (const ChunkTask& task : plan.tasks) {
    const std::size_t bytes = task.in.height * task.in.width * input.pixel_bytes() +
                              chain.scratch_bytes(task.out, input) + plan.chunk_bytes();
    plan.max_task_bytes = std::max(plan.max_task_bytes, bytes);
  }
  return plan;
}

std::vector<std::pair<std::size_t, std::size_t>> row_runs(std::span<const ChunkTask> tasks, std::size_t most) {
  most = std::max<std::size_t>(1, most);
  std::vector<std::pair<std::size_t, std::size_t>> runs;
  for (std::size_t n = 0; n < tasks.size(); ++n) {
    if (!runs.empty()) {
      auto& [first, count] = runs.back();
      const ChunkTask& last = tasks[first + count - 1];
      if (count < most && tasks[n].row == last.row && tasks[n].col == last.col + 1) {
        ++count;
        continue;
      }
    }
    runs.emplace_back(n, 1);
  }
  return runs;
}

std::vector<std::pair<std::size_t, std::size_t>> even_spans(std::size_t count, std::size_t most) {
  most = std::max<std::size_t>(1, most);
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  if (count == 0) return spans;
  const std::size_t parts = (count + most - 1) / most;
  spans.reserve(parts);
  std::size_t first = 0;
  for (std::size_t k = 0; k < parts; ++k) {
    const std::size_t size = count / parts + (k < count % parts ? 1 : 0);
    spans.emplace_back(first, size);
    first += size;
  }
  return spans;
}

ops::Box union_of_inputs(std::span<const ChunkTask> tasks) {
  if (tasks.empty()) return {};
  std::uint64_t y0 = UINT64_MAX, x0 = UINT64_MAX, y1 = 0, x1 = 0;
  for (const ChunkTask& task : tasks) {
    y0 = std::min(y0, task.in.y);
    x0 = std::min(x0, task.in.x);
    y1 = std::max(y1, task.in.y + task.in.height);
    x1 = std::max(x1, task.in.x + task.in.width);
  }
  return {y0, x0, y1 - y0, x1 - x0};
}

}  // namespace tilestream::pipeline
