// The patch placement kernel: one block per (piece, group of rows), threads across a row, copying
// with the widest word the row's source, destination and length allow. CPU twin:
// src/slide/place_patches.cpp.
#include "tilestream/slide/device_place_patches.hpp"

#include <algorithm>
#include <limits>

#include "tilestream/core/error.hpp"
#include "tilestream/cuda/error.hpp"
#include "slide/copy_row.cuh"

namespace tilestream::slide {
namespace {

struct PatchParams {
  const std::byte* tiles;
  const PatchPiece* pieces;
  std::byte* out;
  std::uint32_t tile_base;
  std::uint64_t tile_count;
  std::uint64_t tile_bytes, tile_row_bytes, pixel_bytes;
  std::int64_t tile_width, tile_height;
  std::int64_t image_width, image_height;
  std::int64_t patch_width, patch_height;
  std::uint64_t patch_row_bytes, patch_bytes;
};

__device__ std::int64_t clip(std::int64_t v, std::int64_t limit) { return v < 0 ? 0 : (v > limit ? limit : v); }

__global__ void place_patch_pieces_kernel(PatchParams p) {
  const PatchPiece piece = p.pieces[blockIdx.x];
  if (piece.tile < p.tile_base || piece.tile - p.tile_base >= p.tile_count) return;
  const std::int64_t tile_x = std::int64_t{piece.column} * p.tile_width;
  const std::int64_t tile_y = std::int64_t{piece.row} * p.tile_height;
  const std::int64_t x0 = clip(max(piece.x, tile_x), p.image_width);
  const std::int64_t x1 = clip(min(piece.x + p.patch_width, tile_x + p.tile_width), p.image_width);
  const std::int64_t y0 = clip(max(piece.y, tile_y), p.image_height);
  const std::int64_t y1 = clip(min(piece.y + p.patch_height, tile_y + p.tile_height), p.image_height);
  if (x0 >= x1) return;
  const std::size_t bytes = static_cast<std::size_t>(x1 - x0) * p.pixel_bytes;
  const std::byte* tile_start = p.tiles + (piece.tile - p.tile_base) * p.tile_bytes + (x0 - tile_x) * p.pixel_bytes;
  std::byte* out_start = p.out + piece.index * p.patch_bytes + (x0 - piece.x) * p.pixel_bytes;
  for (std::int64_t y = y0 + blockIdx.y; y < y1; y += gridDim.y) {
    const std::byte* src = tile_start + (y - tile_y) * p.tile_row_bytes;
    std::byte* dst = out_start + (y - piece.y) * p.patch_row_bytes;
    copy_row(src, dst, bytes);
  }
}

constexpr unsigned threads_per_block = 128;
// Rows of a piece per block: a piece is at most a tile's height, and blocks of several rows keep the
// grid small for batches of thousands of pieces.
constexpr unsigned rows_per_block = 16;

}  // namespace

void place_patch_pieces(const std::byte* tiles, std::uint32_t tile_base, std::size_t tile_count,
                        const PatchPiece* pieces, std::size_t count, const PatchGeometry& g, std::byte* out,
                        const cuda::Stream& stream) {
  if (count == 0) return;
  check<UsageError>(count <= static_cast<std::size_t>(std::numeric_limits<int>::max()), "place_patch_pieces: ", count,
                    " pieces, more than one launch takes");
  check<UsageError>(g.tile_width > 0 && g.tile_height > 0 && g.patch_width > 0 && g.patch_height > 0,
                    "place_patch_pieces: empty tiles or patches");
  PatchParams p{};
  p.tiles = tiles;
  p.pieces = pieces;
  p.out = out;
  p.tile_base = tile_base;
  p.tile_count = tile_count;
  p.tile_bytes = g.tile_bytes();
  p.pixel_bytes = g.pixel_bytes();
  p.tile_row_bytes = std::uint64_t{g.tile_width} * p.pixel_bytes;
  p.tile_width = g.tile_width;
  p.tile_height = g.tile_height;
  p.image_width = static_cast<std::int64_t>(g.image_width);
  p.image_height = static_cast<std::int64_t>(g.image_height);
  p.patch_width = static_cast<std::int64_t>(g.patch_width);
  p.patch_height = static_cast<std::int64_t>(g.patch_height);
  p.patch_row_bytes = g.patch_row_bytes();
  p.patch_bytes = g.patch_bytes();
  const unsigned row_groups = std::max(1u, (std::min(g.tile_height, 65535u * rows_per_block) + rows_per_block - 1) / rows_per_block);
  const dim3 grid(static_cast<unsigned>(count), row_groups);
  place_patch_pieces_kernel<<<grid, threads_per_block, 0, stream.get()>>>(p);
  cuda::check_launch("place_patch_pieces_kernel");
}

}  // namespace tilestream::slide
