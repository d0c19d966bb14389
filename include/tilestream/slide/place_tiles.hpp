// Placing raw tiles into a region: the contract shared by the CPU reference here and the CUDA kernel
// (tilestream/slide/device_place_tiles.hpp), which must produce the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tilestream/core/dtype.hpp"

namespace tilestream::slide {

// Where the tiles come from and which part of the image is wanted. Tiles are stored as in a TIFF:
// every tile is tile_height x tile_width x samples, interleaved, full size even at the right and
// bottom edges (the padding past the image is ignored).
struct PlaceGeometry {
  std::uint64_t image_width = 0;  // the whole level, in pixels
  std::uint64_t image_height = 0;
  std::uint32_t tile_width = 0;
  std::uint32_t tile_height = 0;
  std::uint32_t samples = 1;
  DType dtype = DType::uint8;
  std::uint64_t region_x = 0;  // the output covers [x, x+width) x [y, y+height), inside the image
  std::uint64_t region_y = 0;
  std::uint64_t region_width = 0;
  std::uint64_t region_height = 0;

  std::size_t pixel_bytes() const { return std::size_t{samples} * bytes_per_sample(dtype); }
  std::size_t tile_bytes() const { return std::size_t{tile_width} * tile_height * pixel_bytes(); }
  std::size_t region_row_bytes() const { return static_cast<std::size_t>(region_width) * pixel_bytes(); }
  std::uint64_t tiles_across() const { return (image_width + tile_width - 1) / tile_width; }
  std::uint64_t tiles_down() const { return (image_height + tile_height - 1) / tile_height; }
};

// Slot i of the tile buffer holds tile (column, row) of the image's tile grid.
struct TileSlot {
  std::uint32_t column = 0;
  std::uint32_t row = 0;
};

// Throws UsageError unless the geometry is consistent (non-empty tiles and region, region inside the
// image), every slot names a tile of the grid and no tile is named twice, the tile buffer holds at
// least slots.size() tiles and output rows are at least a region row apart.
void check_place_arguments(const PlaceGeometry& geometry, std::span<const TileSlot> slots,
                           std::size_t tiles_bytes, std::size_t out_row_stride);

// Copies the overlap of every slot's tile with the region into `out` (region_height rows of
// region_width x samples, rows `out_row_stride` bytes apart), cropping tiles at the region and image
// edges. Pixels no slot covers are left as they were; tiles outside the region are skipped. Checks its
// arguments with check_place_arguments. This is the reference for the CUDA kernel.
void place_tiles(std::span<const std::byte> tiles, std::span<const TileSlot> slots,
                 const PlaceGeometry& geometry, std::byte* out, std::size_t out_row_stride);

// Every tile the region touches, row by row: the order a reader fills a tile buffer in.
std::vector<TileSlot> region_tile_slots(const PlaceGeometry& geometry);

}  // namespace tilestream::slide
