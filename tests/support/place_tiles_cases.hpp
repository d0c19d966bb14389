// Geometries and tile buffers for tile placement tests, shared by the CPU reference tests
// (tests/slide/place_tiles_test.cpp) and the GPU-equals-CPU tests (place_tiles_gpu_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <vector>

#include "tilestream/slide/place_tiles.hpp"

namespace tilestream::testing {

struct PlaceCase {
  const char* name;
  slide::PlaceGeometry geometry;
};

inline void PrintTo(const PlaceCase& c, std::ostream* out) { *out << c.name; }

// Odd image sizes, 1-pixel edge tiles, regions not aligned to tiles, 1/3/4 samples, uint8/uint16.
inline std::vector<PlaceCase> place_cases() {
  using slide::PlaceGeometry;
  auto make = [](std::uint64_t w, std::uint64_t h, std::uint32_t tw, std::uint32_t th, std::uint32_t samples,
                 DType dtype, std::uint64_t rx, std::uint64_t ry, std::uint64_t rw, std::uint64_t rh) {
    PlaceGeometry g;
    g.image_width = w;
    g.image_height = h;
    g.tile_width = tw;
    g.tile_height = th;
    g.samples = samples;
    g.dtype = dtype;
    g.region_x = rx;
    g.region_y = ry;
    g.region_width = rw;
    g.region_height = rh;
    return g;
  };
  return {
      {"whole_aligned_rgb8", make(64, 48, 16, 16, 3, DType::uint8, 0, 0, 64, 48)},
      {"whole_odd_rgb8", make(67, 45, 16, 16, 3, DType::uint8, 0, 0, 67, 45)},
      {"one_pixel_edge_tiles_gray8", make(33, 17, 16, 16, 1, DType::uint8, 0, 0, 33, 17)},
      {"one_pixel_edge_tiles_rgba16", make(33, 17, 16, 16, 4, DType::uint16, 0, 0, 33, 17)},
      {"unaligned_region_rgb8", make(100, 90, 32, 16, 3, DType::uint8, 7, 13, 61, 50)},
      {"unaligned_region_gray16", make(101, 91, 16, 32, 1, DType::uint16, 15, 31, 70, 60)},
      {"region_inside_one_tile_rgba8", make(80, 80, 64, 64, 4, DType::uint8, 3, 5, 9, 7)},
      {"single_pixel_region_rgb16", make(50, 50, 16, 16, 3, DType::uint16, 49, 49, 1, 1)},
      {"last_column_and_row_rgb8", make(129, 257, 128, 128, 3, DType::uint8, 128, 0, 1, 257)},
      {"non_square_tiles_odd_widths_rgb8", make(1001, 77, 48, 24, 3, DType::uint8, 5, 3, 990, 73)},
      {"strip_like_tiles_gray8", make(37, 29, 37, 4, 1, DType::uint8, 2, 1, 35, 27)},
      {"seed_like_rgb8", make(1300, 1100, 512, 512, 3, DType::uint8, 0, 0, 1300, 1100)},
  };
}

// The byte a tile holds at image pixel (x, y), byte b of the pixel: a function of position only,
// so every output byte can be predicted without the code under test.
inline std::byte pattern_byte(std::uint64_t x, std::uint64_t y, std::size_t b) {
  return static_cast<std::byte>((x * 7 + y * 13 + b * 29 + (x >> 8) * 3 + (y >> 8) * 5) & 0xff);
}
// What a tile holds past the image's right and bottom edges: must never reach the output.
inline constexpr std::byte padding_byte{0xee};

// A buffer of every tile the region touches, in the order of `slots`, as a TIFF stores them.
inline std::vector<std::byte> make_tiles(const slide::PlaceGeometry& g,
                                         const std::vector<slide::TileSlot>& slots) {
  std::vector<std::byte> tiles(slots.size() * g.tile_bytes());
  const std::size_t pixel = g.pixel_bytes();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    std::byte* tile = tiles.data() + i * g.tile_bytes();
    for (std::uint32_t ty = 0; ty < g.tile_height; ++ty) {
      for (std::uint32_t tx = 0; tx < g.tile_width; ++tx) {
        const std::uint64_t x = std::uint64_t{slots[i].column} * g.tile_width + tx;
        const std::uint64_t y = std::uint64_t{slots[i].row} * g.tile_height + ty;
        const bool inside = x < g.image_width && y < g.image_height;
        for (std::size_t b = 0; b < pixel; ++b) {
          tile[(std::size_t{ty} * g.tile_width + tx) * pixel + b] =
              inside ? pattern_byte(x, y, b) : padding_byte;
        }
      }
    }
  }
  return tiles;
}

// The region as it should come out, rows packed.
inline std::vector<std::byte> expected_region(const slide::PlaceGeometry& g) {
  std::vector<std::byte> out(g.region_row_bytes() * g.region_height);
  const std::size_t pixel = g.pixel_bytes();
  for (std::uint64_t r = 0; r < g.region_height; ++r) {
    for (std::uint64_t c = 0; c < g.region_width; ++c) {
      for (std::size_t b = 0; b < pixel; ++b) {
        out[r * g.region_row_bytes() + c * pixel + b] = pattern_byte(g.region_x + c, g.region_y + r, b);
      }
    }
  }
  return out;
}

}  // namespace tilestream::testing
