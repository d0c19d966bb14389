// Placing tiles into a batch of patches: which tiles a batch touches (each once, however many patches
// share it) and which piece of each tile goes into which patch. The contract shared by the CPU
// reference here and the CUDA kernel (tilestream/slide/device_place_patches.hpp), which must produce
// the same bytes. The device reader decodes the plan's tiles in batches and places their pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tilestream/core/dtype.hpp"
#include "tilestream/slide/place_tiles.hpp"

namespace tilestream::slide {

// The tiles' grid (as in a TIFF: every tile stored whole) and the patches' size, in the level's pixels.
struct PatchGeometry {
  std::uint64_t image_width = 0;
  std::uint64_t image_height = 0;
  std::uint32_t tile_width = 0;
  std::uint32_t tile_height = 0;
  std::uint32_t samples = 1;
  DType dtype = DType::uint8;
  std::uint64_t patch_width = 0;
  std::uint64_t patch_height = 0;
  std::size_t pixel_bytes() const { return std::size_t{samples} * bytes_per_sample(dtype); }
  std::size_t tile_bytes() const { return std::size_t{tile_width} * tile_height * pixel_bytes(); }
  std::size_t patch_row_bytes() const { return static_cast<std::size_t>(patch_width) * pixel_bytes(); }
  // Patch k of a stacked output is rows [k * patch_height, (k + 1) * patch_height).
  std::size_t patch_bytes() const { return patch_row_bytes() * patch_height; }
};

// A patch to fill: its top-left corner in the level's pixels (it may stick out of the level on any
// side) and its place in the stacked output.
struct PatchCorner {
  std::int64_t x = 0, y = 0;
  std::uint32_t index = 0;
};

// The part of tile `tile` (a position in PatchPlan::tiles) that lands in patch `index` of the output,
// whose corner is (x, y). The overlap itself is computed where it is copied.
struct PatchPiece {
  std::uint32_t tile = 0;
  std::uint32_t column = 0, row = 0;  // the tile's place in the grid
  std::uint32_t index = 0;
  std::int64_t x = 0, y = 0;
};

// Every tile some patch overlaps, once each, in tile-number order (row by row: the order scanners
// write tiles, so that neighbouring tiles are read together); and the pieces, ordered by tile, so that
// the pieces of tiles [a, b) are one run (PatchPlan::pieces_of). Patches wholly outside the level get
// no piece; `outside` lists the output indices of patches that are not wholly inside (their pixels
// outside the level are 0, which the placing does not write).
struct PatchPlan {
  std::vector<TileSlot> tiles;
  std::vector<PatchPiece> pieces;
  std::vector<std::size_t> first_piece;  // tiles.size() + 1 offsets into pieces
  std::vector<std::uint32_t> outside;
  // The pieces of tiles [first, first + count) (their `tile` fields are positions in `tiles`).
  std::span<const PatchPiece> pieces_of(std::size_t first, std::size_t count) const {
    return std::span<const PatchPiece>(pieces).subspan(first_piece[first], first_piece[first + count] - first_piece[first]);
  }
};

// Throws UsageError for empty tiles or patches, or a patch index at or past `patch_count`.
PatchPlan plan_patches(const PatchGeometry& geometry, std::span<const PatchCorner> patches, std::size_t patch_count);

// The plan's tiles for which `take` holds (first) and the others (second), each with its pieces, as
// plans of their own (tile positions renumbered, order kept); `outside` goes with the second.
struct SplitPlan {
  PatchPlan taken;
  PatchPlan rest;
};
template <class Take>
SplitPlan split_plan(const PatchPlan& plan, Take take) {
  SplitPlan out;
  out.taken.first_piece.push_back(0);
  out.rest.first_piece.push_back(0);
  for (std::size_t t = 0; t < plan.tiles.size(); ++t) {
    PatchPlan& to = take(plan.tiles[t]) ? out.taken : out.rest;
    const auto position = static_cast<std::uint32_t>(to.tiles.size());
    to.tiles.push_back(plan.tiles[t]);
    for (std::size_t k = plan.first_piece[t]; k < plan.first_piece[t + 1]; ++k) {
      to.pieces.push_back(plan.pieces[k]);
      to.pieces.back().tile = position;
    }
    to.first_piece.push_back(to.pieces.size());
  }
  out.rest.outside = plan.outside;
  return out;
}

// Whether tile `number` of a level is one of the `share` (0 to 1) of its tiles that CPU threads decode
// beside nvJPEG: a fixed draw per tile number (splitmix64), so that a tile is decoded by the same
// decoder in every batch and every run, whatever else the batch holds.
bool cpu_share_tile(std::uint64_t number, double share);
// Whether the patch whose corner is (x, y) is one of the `share` (0 to 1) of patch positions that CPU
// threads read beside nvJPEG under the patch split (DeviceReaderOptions::patch_split): a fixed draw
// per position, so that a patch read twice is read by the same decoder, whatever else the batch holds.
bool cpu_share_patch(std::int64_t x, std::int64_t y, double share);

// Copies each piece's overlap of its tile (tile `piece.tile - tile_base` of `tiles`, tile_bytes()
// apart) with its patch into `out` (patch_count patches stacked, rows patch_row_bytes() apart),
// cropping at the level's edges. Pixels no piece covers are left as they were. The reference for the
// CUDA kernel.
void place_patch_pieces(std::span<const std::byte> tiles, std::uint32_t tile_base, std::span<const PatchPiece> pieces,
                        const PatchGeometry& geometry, std::byte* out);

}  // namespace tilestream::slide
