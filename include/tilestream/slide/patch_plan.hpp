// Which patches a training epoch reads and in which order: grids of patches over a level (kept where
// a mask is set) and a shuffle that is the same on every platform for a seed and an epoch. Plain
// values; slide/patch_stream reads them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tilestream/slide/slide.hpp"

namespace tilestream::slide {

// One patch: the slide (an index into the caller's list of slides) and the top-left corner in that
// slide's level-0 pixels (OpenSlide's addressing, as read_region takes it).
struct PatchRef {
  std::uint32_t slide = 0;
  std::int64_t x = 0, y = 0;
};

// A mask over a whole slide at any resolution (a tissue mask of a thumbnail, say): `rows` x `cols`
// bytes, row-major, nonzero where patches are wanted. Mask pixel (r, c) covers level-0 pixels
// [c * W / cols, (c + 1) * W / cols) x [r * H / rows, (r + 1) * H / rows) of a W x H level 0.
struct PatchMask {
  const std::uint8_t* data = nullptr;
  std::uint64_t rows = 0, cols = 0;
};

struct PatchGrid {
  std::uint64_t width = 0, height = 0;      // patch size in the level's pixels
  std::uint64_t stride_x = 0, stride_y = 0;  // between patches, in the level's pixels (> 0)
  // false: only patches that lie wholly inside the level; true: also those that stick out of its right
  // and bottom edges (read with zeros there), so that the grid covers the whole level.
  bool cover_edges = false;
};

// The grid's patches over `level` of `slide`, row by row, as level-0 locations that read_region maps
// back onto exactly the grid's level pixels (level_rect's rounding); a patch is kept where `mask` (when
// given) is nonzero at the patch's centre. UsageError for a zero size or stride, or a mask without
// pixels.
std::vector<PatchRef> patch_grid(const Slide& slide, std::uint32_t slide_index, std::size_t level,
                                 const PatchGrid& grid, const PatchMask* mask = nullptr);

// The smallest level-0 coordinate that level_rect maps onto level coordinate `level_coordinate` (it
// rounds x0 / downsample down), so that a grid made in level pixels reads exactly those pixels. The
// same for x and y (a level has one downsample). Where the level is larger than level 0 (downsample
// below 1) not every level coordinate has one: the nearest below is returned.
std::int64_t level0_location(const Slide& slide, std::size_t level, std::int64_t level_coordinate);

// A batch's patches of one slide: their positions in the batch, in the batch's order. A batch is read
// slide by slide, each slide's patches in one call, so that the tiles they share are decoded once.
struct SlidePatchGroup {
  std::uint32_t slide = 0;
  std::vector<std::size_t> positions;
};
// The groups of `patches`, slides in index order.
std::vector<SlidePatchGroup> group_by_slide(std::span<const PatchRef> patches);

// The order in which an epoch visits `count` patches: 0, 1, ... when `shuffle` is false, else a
// permutation drawn from (`seed`, `epoch`) by a Fisher-Yates shuffle over splitmix64, so that a seed
// gives the same order on every platform and every run, and each epoch a different one.
std::vector<std::size_t> epoch_order(std::size_t count, bool shuffle, std::uint64_t seed, std::uint64_t epoch);

}  // namespace tilestream::slide
