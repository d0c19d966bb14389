// plan_chunks: the output chunk grid and each chunk's source box through the chain.
#include "tilestream/pipeline/plan.hpp"

#include <algorithm>

#include "tilestream/core/error.hpp"

namespace tilestream::pipeline {

ChunkPlan plan_chunks(const ops::Chain& chain, const ops::ImageShape& input, std::uint64_t chunk) {
  check<UsageError>(chunk > 0, "chunk side must be at least 1");
  ChunkPlan plan;
  plan.input = input;
  plan.output = chain.output_shape(input);
  plan.chunk_height = std::min(chunk, plan.output.height);
  plan.chunk_width = std::min(chunk, plan.output.width);
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

}  // namespace tilestream::pipeline
