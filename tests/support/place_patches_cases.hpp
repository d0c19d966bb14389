// Levels, patch batches and the expected stacked patches for the patch placement tests, shared by the
// CPU reference tests (tests/slide/place_patches_test.cpp) and the GPU-equals-CPU tests
// (place_patches_gpu_test.cpp). The expected output is cut from the whole level directly, without the
// code under test.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <ostream>
#include <random>
#include <span>
#include <vector>

#include "tilestream/slide/place_patches.hpp"

namespace tilestream::testing {

struct PatchCase {
  const char* name;
  slide::PatchGeometry geometry;
};

inline void PrintTo(const PatchCase& c, std::ostream* out) { *out << c.name; }

// Image sizes that are not multiples of the tile, non-square tiles, patches smaller than a tile, equal
// to it, larger than several tiles and larger than the level; 1, 3 and 4 samples of uint8 and uint16.
inline std::vector<PatchCase> patch_cases() {
  auto make = [](std::uint64_t w, std::uint64_t h, std::uint32_t tw, std::uint32_t th, std::uint32_t samples,
                 DType dtype, std::uint64_t pw, std::uint64_t ph) {
    slide::PatchGeometry g;
    g.image_width = w;
    g.image_height = h;
    g.tile_width = tw;
    g.tile_height = th;
    g.samples = samples;
    g.dtype = dtype;
    g.patch_width = pw;
    g.patch_height = ph;
    return g;
  };
  return {
      {"rgb8_odd_level", make(203, 157, 32, 48, 3, DType::uint8, 40, 30)},
      {"rgb8_patches_over_many_tiles", make(203, 157, 32, 16, 3, DType::uint8, 70, 50)},
      {"rgb8_tile_sized_patches", make(130, 100, 32, 32, 3, DType::uint8, 32, 32)},
      {"gray16_odd_level", make(97, 61, 16, 16, 1, DType::uint16, 24, 20)},
      {"rgb16_odd_patches", make(70, 50, 32, 32, 3, DType::uint16, 33, 17)},
      {"rgba16_one_pixel_patches", make(45, 33, 16, 16, 4, DType::uint16, 1, 1)},
      {"gray8_patches_larger_than_the_level", make(37, 29, 16, 8, 1, DType::uint8, 50, 40)},
      {"rgb8_one_tile_level", make(20, 13, 32, 32, 3, DType::uint8, 7, 5)},
      {"rgb8_seed_like", make(1300, 1100, 512, 512, 3, DType::uint8, 224, 224)},
  };
}

// A whole level of random bytes (rows packed), fixed by `seed`.
inline std::vector<std::byte> random_level(const slide::PatchGeometry& g, std::uint32_t seed) {
  std::vector<std::byte> level(static_cast<std::size_t>(g.image_width * g.image_height) * g.pixel_bytes());
  std::mt19937 rng(seed);
  for (std::byte& b : level) b = static_cast<std::byte>(rng() & 0xff);
  return level;
}

// What a tile holds past the level's right and bottom edges: must never reach a patch.
inline constexpr std::byte padding_byte{0xee};

// The tiles `slots` cut from the whole level, back to back in that order, tile_bytes() apart, as a TIFF
// stores them (padded past the edges).
inline std::vector<std::byte> cut_tiles(const slide::PatchGeometry& g, const std::vector<std::byte>& level,
                                        std::span<const slide::TileSlot> slots) {
  std::vector<std::byte> tiles(slots.size() * g.tile_bytes(), padding_byte);
  const std::size_t pixel = g.pixel_bytes();
  const std::size_t level_row = static_cast<std::size_t>(g.image_width) * pixel;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::uint64_t x0 = std::uint64_t{slots[i].column} * g.tile_width;
    const std::uint64_t y0 = std::uint64_t{slots[i].row} * g.tile_height;
    const std::uint64_t w = std::min<std::uint64_t>(g.tile_width, g.image_width - x0);
    const std::uint64_t h = std::min<std::uint64_t>(g.tile_height, g.image_height - y0);
    for (std::uint64_t r = 0; r < h; ++r) {
      std::copy_n(level.begin() + static_cast<std::ptrdiff_t>((y0 + r) * level_row + x0 * pixel), w * pixel,
                  tiles.begin() + static_cast<std::ptrdiff_t>(i * g.tile_bytes() + r * g.tile_width * pixel));
    }
  }
  return tiles;
}

// A batch of patches for `g` (its size in `count`, with one place no patch names: `unnamed`): every
// edge case by construction (inside on tile borders, sticking out by one pixel on each side and at the
// corners, one pixel inside, wholly outside on each side and far away, the level's last pixel), random
// ones across and around the level, the same corner at several places, one patch listed twice; places
// shuffled and listed out of order. Fixed by `seed`.
struct PatchBatch {
  std::vector<slide::PatchCorner> corners;
  std::size_t count = 0;
  std::uint32_t unnamed = 0;
};

inline PatchBatch edge_case_patches(const slide::PatchGeometry& g, std::uint32_t seed,
                                    std::size_t random = 40) {
  const auto W = static_cast<std::int64_t>(g.image_width), H = static_cast<std::int64_t>(g.image_height);
  const auto pw = static_cast<std::int64_t>(g.patch_width), ph = static_cast<std::int64_t>(g.patch_height);
  const std::int64_t tw = g.tile_width, th = g.tile_height;
  std::vector<std::pair<std::int64_t, std::int64_t>> at = {
      {0, 0},                      // the top-left corner
      {tw, th},                    // on a tile border
      {tw - pw, th - ph},          // ending on a tile border
      {W - pw, H - ph},            // the bottom-right corner, just inside
      {W - pw, 0},                 // the top-right corner, just inside
      {-1, 0},                     // one pixel out on the left
      {0, -1},                     // on the top
      {W - pw + 1, 0},             // on the right
      {0, H - ph + 1},             // at the bottom
      {-pw / 2 - 1, -ph / 2 - 1},  // out at the top-left corner
      {W - pw / 2, H - ph / 2},    // at the bottom-right corner
      {W - pw / 2, -ph / 2 - 1},   // at the top-right corner
      {-pw / 2 - 1, H - ph / 2},   // at the bottom-left corner
      {-pw + 1, -ph + 1},          // one pixel inside, top-left
      {W - 1, H - 1},              // one pixel inside, the level's last
      {-pw, 0},                    // wholly outside, touching the left edge
      {W, 0},                      // on the right
      {0, -ph},                    // at the top
      {0, H},                      // at the bottom
      {-pw - 1000, -ph - 1000},    // far away
      {W + 5000, H + 7000},
      {-(pw + 10) / 2 + W / 2, -(ph + 10) / 2 + H / 2},  // around the middle
  };
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int64_t> across(-pw - 3, W + 3), down(-ph - 3, H + 3);
  for (std::size_t k = 0; k < random; ++k) at.emplace_back(across(rng), down(rng));
  // The same corner at other places.
  for (const std::size_t k : {std::size_t{1}, std::size_t{7}, at.size() - 3}) {
    const auto same = at[k];
    at.push_back(same);
  }
  PatchBatch batch;
  batch.count = at.size() + 1;
  std::vector<std::uint32_t> places(batch.count);
  std::iota(places.begin(), places.end(), 0u);
  std::shuffle(places.begin(), places.end(), rng);
  batch.unnamed = places.back();
  for (std::size_t k = 0; k < at.size(); ++k) batch.corners.push_back({at[k].first, at[k].second, places[k]});
  batch.corners.push_back(batch.corners[4]);  // one patch listed twice
  std::shuffle(batch.corners.begin(), batch.corners.end(), rng);
  return batch;
}

inline bool wholly_inside(const slide::PatchGeometry& g, const slide::PatchCorner& p) {
  return p.x >= 0 && p.y >= 0 &&
         p.x + static_cast<std::int64_t>(g.patch_width) <= static_cast<std::int64_t>(g.image_width) &&
         p.y + static_cast<std::int64_t>(g.patch_height) <= static_cast<std::int64_t>(g.image_height);
}

// The stacked patches cut from the whole level: pixels inside the level as they are there, pixels
// outside it `outside`, places no patch names `unnamed` throughout.
inline std::vector<std::byte> expected_patches(const slide::PatchGeometry& g,
                                               const std::vector<std::byte>& level,
                                               std::span<const slide::PatchCorner> corners, std::size_t count,
                                               std::byte outside, std::byte unnamed) {
  std::vector<std::byte> out(count * g.patch_bytes(), unnamed);
  const std::size_t pixel = g.pixel_bytes();
  const auto W = static_cast<std::int64_t>(g.image_width), H = static_cast<std::int64_t>(g.image_height);
  for (const slide::PatchCorner& p : corners) {
    std::byte* patch = out.data() + p.index * g.patch_bytes();
    for (std::uint64_t r = 0; r < g.patch_height; ++r) {
      for (std::uint64_t c = 0; c < g.patch_width; ++c) {
        const std::int64_t x = p.x + static_cast<std::int64_t>(c), y = p.y + static_cast<std::int64_t>(r);
        std::byte* to = patch + r * g.patch_row_bytes() + c * pixel;
        if (x >= 0 && y >= 0 && x < W && y < H) {
          std::copy_n(level.data() + (static_cast<std::size_t>(y * W + x)) * pixel, pixel, to);
        } else {
          std::fill_n(to, pixel, outside);
        }
      }
    }
  }
  return out;
}

}  // namespace tilestream::testing
