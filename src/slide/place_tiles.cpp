// CPU reference of tile placement: the CUDA kernel in src/slide/place_tiles.cu must match it byte for byte.
#include "tilestream/slide/place_tiles.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "tilestream/core/error.hpp"

namespace tilestream::slide {

void check_place_arguments(const PlaceGeometry& g, std::span<const TileSlot> slots, std::size_t tiles_bytes,
                           std::size_t out_row_stride) {
  constexpr std::uint64_t max_tile_bytes = std::uint64_t{1} << 40;
  check<UsageError>(g.tile_width > 0 && g.tile_height > 0, "place_tiles: empty tiles ", g.tile_width, " x ",
                    g.tile_height);
  check<UsageError>(g.samples > 0 && g.samples <= 16, "place_tiles: ", g.samples, " samples per pixel");
  check<UsageError>(std::uint64_t{g.tile_width} * g.tile_height <= max_tile_bytes / g.pixel_bytes(),
                    "place_tiles: tiles of ", g.tile_width, " x ", g.tile_height, " pixels are too large");
  check<UsageError>(g.region_width > 0 && g.region_height > 0, "place_tiles: empty region ", g.region_width,
                    " x ", g.region_height);
  check<UsageError>(g.region_x < g.image_width && g.region_y < g.image_height &&
                        g.region_width <= g.image_width - g.region_x &&
                        g.region_height <= g.image_height - g.region_y,
                    "place_tiles: region ", g.region_x, ",", g.region_y, " ", g.region_width, "x",
                    g.region_height, " is outside the image (", g.image_width, " x ", g.image_height, ")");
  check<UsageError>(out_row_stride >= g.region_row_bytes(), "place_tiles: output rows ", out_row_stride,
                    " bytes apart, less than a region row (", g.region_row_bytes(), " bytes)");
  check<UsageError>(tiles_bytes / g.tile_bytes() >= slots.size(), "place_tiles: ", slots.size(), " slots of ",
                    g.tile_bytes(), " bytes need more than the tile buffer's ", tiles_bytes, " bytes");
  std::vector<std::uint64_t> keys;
  keys.reserve(slots.size());
  for (std::size_t i = 0; i < slots.size(); ++i) {
    check<UsageError>(slots[i].column < g.tiles_across() && slots[i].row < g.tiles_down(),
                      "place_tiles: slot ", i, " names tile (column ", slots[i].column, ", row ",
                      slots[i].row, ") outside the grid of ", g.tiles_across(), " x ", g.tiles_down(),
                      " tiles");
    keys.push_back(std::uint64_t{slots[i].row} << 32 | slots[i].column);
  }
  std::sort(keys.begin(), keys.end());
  const auto twice = std::adjacent_find(keys.begin(), keys.end());
  if (twice != keys.end()) {
    throw UsageError(concat("place_tiles: tile (column ", *twice & 0xffffffffu, ", row ", *twice >> 32,
                            ") is in two slots"));
  }
}

void place_tiles(std::span<const std::byte> tiles, std::span<const TileSlot> slots, const PlaceGeometry& g,
                 std::byte* out, std::size_t out_row_stride) {
  check_place_arguments(g, slots, tiles.size(), out_row_stride);
  const std::size_t pixel = g.pixel_bytes();
  const std::size_t tile_row = std::size_t{g.tile_width} * pixel;
  const std::uint64_t region_x1 = g.region_x + g.region_width;
  const std::uint64_t region_y1 = g.region_y + g.region_height;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::uint64_t tile_x = std::uint64_t{slots[i].column} * g.tile_width;
    const std::uint64_t tile_y = std::uint64_t{slots[i].row} * g.tile_height;
    // The region lies inside the image, so clipping to the region also crops the tile's padding.
    const std::uint64_t x0 = std::max(g.region_x, tile_x);
    const std::uint64_t x1 = std::min(region_x1, tile_x + g.tile_width);
    const std::uint64_t y0 = std::max(g.region_y, tile_y);
    const std::uint64_t y1 = std::min(region_y1, tile_y + g.tile_height);
    if (x0 >= x1 || y0 >= y1) continue;
    const std::byte* tile = tiles.data() + i * g.tile_bytes();
    for (std::uint64_t y = y0; y < y1; ++y) {
      std::memcpy(out + (y - g.region_y) * out_row_stride + (x0 - g.region_x) * pixel,
                  tile + (y - tile_y) * tile_row + (x0 - tile_x) * pixel, (x1 - x0) * pixel);
    }
  }
}

std::vector<TileSlot> region_tile_slots(const PlaceGeometry& g) {
  check<UsageError>(g.tile_width > 0 && g.tile_height > 0 && g.region_width > 0 && g.region_height > 0,
                    "region_tile_slots: empty tiles or region");
  const auto tx0 = static_cast<std::uint32_t>(g.region_x / g.tile_width);
  const auto tx1 = static_cast<std::uint32_t>((g.region_x + g.region_width - 1) / g.tile_width);
  const auto ty0 = static_cast<std::uint32_t>(g.region_y / g.tile_height);
  const auto ty1 = static_cast<std::uint32_t>((g.region_y + g.region_height - 1) / g.tile_height);
  std::vector<TileSlot> slots;
  slots.reserve(std::size_t{tx1 - tx0 + 1} * (ty1 - ty0 + 1));
  for (std::uint32_t ty = ty0; ty <= ty1; ++ty) {
    for (std::uint32_t tx = tx0; tx <= tx1; ++tx) slots.push_back({tx, ty});
  }
  return slots;
}

}  // namespace tilestream::slide
