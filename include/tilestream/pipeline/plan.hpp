// The output chunks of a processing run and, for each, the source pixels it needs: the chunk pushed
// back through the op chain (each op's halo, downsampling) and clipped to the source image. Pure
// functions of shapes: no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "tilestream/ops/chain.hpp"
#include "tilestream/zarr/array.hpp"

namespace tilestream::pipeline {

// How an image's axes map onto a Zarr array's: (y, x, c), or (c, y, x) as OME-NGFF orders them.
enum class Layout { yxc, cyx };

// Index of the y and x axes (and the channel axis) in a layout's array shape.
struct AxisOrder {
  std::size_t y, x, c;
};
constexpr AxisOrder axis_order(Layout layout) {
  return layout == Layout::cyx ? AxisOrder{1, 2, 0} : AxisOrder{0, 1, 2};
}

// How an image is stored as a Zarr array.
struct ArrayOptions {
  int zarr_version = 3;
  std::uint64_t chunk = 512;                      // chunk side (y and x); the channel axis is one chunk
  std::uint64_t shard = 0;                        // v3 shard side, a multiple of chunk; 0: not sharded
  std::vector<zarr::CompressorSpec> compressors;  // empty: uncompressed
  Layout layout = Layout::yxc;
  char separator = '/';                           // v2 dimension_separator
};

// UsageError naming the option: a zarr_version other than 2 or 3, chunk 0, a shard with Zarr v2 or
// that is not a multiple of the chunk, more than one compressor on v2, a separator other than '.' or '/'.
void validate(const ArrayOptions& options);

// The array of a height x width x samples image: shape and chunks in the layout's axis order, chunks
// of options.chunk per spatial side clipped to the image (a small image is one chunk of its own
// size), the channel axis whole; shards of options.shard likewise clipped to the chunk-rounded image;
// fill 0; v3 dimension names y, x, c in that order.
zarr::ArraySpec image_array_spec(std::uint64_t height, std::uint64_t width, std::uint32_t samples, DType dtype,
                                 const ArrayOptions& options);

// One output block (a chunk, or a shard) and the source box it is computed from.
struct ChunkTask {
  std::uint64_t row = 0, col = 0;  // position in the chunk grid
  ops::Box out;                    // pixels of the output image (the chunk clipped to the image)
  ops::Box in;                     // pixels of the source image that `out` needs
};

// The task's block coordinates in the array's grid, in `layout`'s axis order (channel axis 0).
std::array<std::uint64_t, 3> block_coords(const ChunkTask& task, Layout layout);

struct ChunkPlan {
  ops::ImageShape input, output;
  // The Zarr block: plan_chunks' `chunk` per side clipped to the output image (a small output is one
  // chunk), or plan_blocks' block as given.
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
// The same with the block given whole: `block_height` x `block_width` (a Zarr array's block, the shard
// when sharded, which may reach past the image), each task's `out` the block clipped to the image.
ChunkPlan plan_blocks(const ops::Chain& chain, const ops::ImageShape& input, std::uint64_t block_height,
                      std::uint64_t block_width);

// Runs of `tasks` that one worker may take at once: consecutive tasks of one grid row whose columns
// follow each other, at most `most` (at least 1) in a run. As {first index, count}, in order, covering
// every task once. A resumed plan's gaps (blocks already stored) end a run.
std::vector<std::pair<std::size_t, std::size_t>> row_runs(std::span<const ChunkTask> tasks, std::size_t most);
// `count` consecutive indices cut into as few runs of at most `most` (at least 1) as cover them, their
// sizes differing by at most one: {first index, count}, in order. Global mode's batches of blocks, which
// lie in the device image already and need not be neighbours.
std::vector<std::pair<std::size_t, std::size_t>> even_spans(std::size_t count, std::size_t most);
// The smallest box holding the `in` box of every task (an empty box for none).
ops::Box union_of_inputs(std::span<const ChunkTask> tasks);

}  // namespace tilestream::pipeline
