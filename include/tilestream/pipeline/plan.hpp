// The output chunks of a processing run and, for each, the source pixels it needs: the chunk pushed
// back through the op chain (each op's halo, downsampling) and clipped to the source image. Pure
// functions of shapes: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tilestream/ops/chain.hpp"

namespace tilestream::pipeline {

// One output chunk and the source box it is computed from.
struct ChunkTask {
  std::uint64_t row = 0, col = 0;  // position in the chunk grid
  ops::Box out;                    // pixels of the output image (the chunk clipped to the image)
  ops::Box in;                     // pixels of the source image that `out` needs
};

struct ChunkPlan {
  ops::ImageShape input, output;
  // The Zarr chunk: `chunk` per side, clipped to the output image (a small output is one chunk).
  std::uint64_t chunk_height = 0, chunk_width = 0;
  std::uint64_t grid_rows = 0, grid_cols = 0;
  std::vector<ChunkTask> tasks;  // row-major over the grid
  // The largest task's bytes: its source tile, the chain's intermediate tiles and one full output
  // chunk (a streaming worker holds these at once, plus its encoded chunk).
  std::size_t max_task_bytes = 0;
  // Bytes of one full output chunk.
  std::size_t chunk_bytes() const { return chunk_height * chunk_width * output.pixel_bytes(); }
};

// Plans `chunk` x `chunk` output chunks for `chain` on a source image of shape `input`. UsageError
// for chunk 0 or an input the chain does not take.
ChunkPlan plan_chunks(const ops::Chain& chain, const ops::ImageShape& input, std::uint64_t chunk);

}  // namespace tilestream::pipeline
