// The tile placement kernel: one block per (slot, group of tile rows), threads across a row, copying
// with the widest word that the row's source, destination and length all allow. CPU twin:
// src/slide/place_tiles.cpp.
#include "tilestream/slide/device_place_tiles.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "tilestream/core/error.hpp"
#include "tilestream/cuda/error.hpp"
#include "slide/copy_row.cuh"

namespace tilestream::slide {
namespace {

struct PlaceParams {
  const std::byte* tiles;
  const TileSlot* slots;
  std::byte* out;
  std::size_t out_row_stride;
  std::size_t tile_bytes;
  std::size_t tile_row_bytes;
  std::size_t pixel_bytes;
  std::uint64_t tile_width;
  std::uint64_t tile_height;
  std::uint64_t region_x, region_y, region_x1, region_y1;  // [x, x1) x [y, y1)
};

__global__ void place_tiles_kernel(PlaceParams p) {
  const std::size_t slot = blockIdx.x;
  const TileSlot tile = p.slots[slot];
  const std::uint64_t tile_x = tile.column * p.tile_width;
  const std::uint64_t tile_y = tile.row * p.tile_height;
  const std::uint64_t x0 = max(p.region_x, tile_x);
  const std::uint64_t x1 = min(p.region_x1, tile_x + p.tile_width);
  const std::uint64_t y0 = max(p.region_y, tile_y);
  const std::uint64_t y1 = min(p.region_y1, tile_y + p.tile_height);
  if (x0 >= x1) return;
  const std::size_t bytes = (x1 - x0) * p.pixel_bytes;
  const std::byte* tile_start = p.tiles + slot * p.tile_bytes + (x0 - tile_x) * p.pixel_bytes;
  std::byte* out_start = p.out + (x0 - p.region_x) * p.pixel_bytes;
  for (std::uint64_t y = y0 + blockIdx.y; y < y1; y += gridDim.y) {
    const std::byte* src = tile_start + (y - tile_y) * p.tile_row_bytes;
    std::byte* dst = out_start + (y - p.region_y) * p.out_row_stride;
    copy_row(src, dst, bytes);
  }
}

constexpr unsigned threads_per_block = 128;
constexpr unsigned max_grid_y = 65535;

}  // namespace

void place_tiles(const cuda::DeviceBuffer& tiles, std::span<const TileSlot> slots,
                 const PlaceGeometry& g, std::byte* out, std::size_t out_row_stride,
                 const cuda::Stream& stream) {
  check_place_arguments(g, slots, tiles.size(), out_row_stride);
  check<UsageError>(slots.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max()),
                    "place_tiles: ", slots.size(), " slots, more than one launch takes");
  check<UsageError>(tiles.device() == stream.device(), "place_tiles: tiles on device ", tiles.device(),
                    ", stream on device ", stream.device());
  if (slots.empty()) return;
  cuda::DeviceBuffer table(slots.size_bytes(), stream);
  copy_to_device(table, std::as_bytes(slots), stream);

  PlaceParams p{};
  p.tiles = tiles.data();
  p.slots = reinterpret_cast<const TileSlot*>(table.data());
  p.out = out;
  p.out_row_stride = out_row_stride;
  p.tile_bytes = g.tile_bytes();
  p.tile_row_bytes = std::size_t{g.tile_width} * g.pixel_bytes();
  p.pixel_bytes = g.pixel_bytes();
  p.tile_width = g.tile_width;
  p.tile_height = g.tile_height;
  p.region_x = g.region_x;
  p.region_y = g.region_y;
  p.region_x1 = g.region_x + g.region_width;
  p.region_y1 = g.region_y + g.region_height;
  const dim3 grid(static_cast<unsigned>(slots.size()), std::min(g.tile_height, max_grid_y));
  place_tiles_kernel<<<grid, threads_per_block, 0, stream.get()>>>(p);
  cuda::check_launch("place_tiles_kernel");
  // `table` is freed stream-ordered, after the kernel.
}

void place_tiles(const cuda::DeviceBuffer& tiles, std::span<const TileSlot> slots,
                 const PlaceGeometry& g, cuda::DeviceImage& out, const cuda::Stream& stream) {
  check<UsageError>(out.height() == g.region_height && out.width() == g.region_width &&
                        out.samples() == g.samples && out.dtype() == g.dtype,
                    "place_tiles: a ", g.region_height, " x ", g.region_width, " x ", g.samples, " ",
                    to_string(g.dtype), " region into a ", out.height(), " x ", out.width(), " x ",
                    out.samples(), " ", to_string(out.dtype()), " device image");
  place_tiles(tiles, slots, g, out.data(), out.row_stride(), stream);
}

}  // namespace tilestream::slide
