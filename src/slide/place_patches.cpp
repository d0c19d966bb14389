// Planning a patch batch's tiles and pieces, and the CPU reference of placing them (the CUDA kernel in
// src/slide/place_patches.cu must match it byte for byte).
#include "tilestream/slide/place_patches.hpp"

#include <algorithm>
#include <cstring>

#include "tilestream/core/error.hpp"

namespace tilestream::slide {
namespace {

// The overlap of a tile with a patch, clipped to the level, in level pixels: [x0, x1) x [y0, y1).
struct Overlap {
  std::uint64_t x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  bool empty() const { return x0 >= x1 || y0 >= y1; }
};

Overlap overlap(const PatchGeometry& g, const PatchPiece& p) {
  const std::int64_t tile_x = std::int64_t{p.column} * g.tile_width;
  const std::int64_t tile_y = std::int64_t{p.row} * g.tile_height;
  const auto clip = [](std::int64_t v, std::uint64_t limit) {
    return static_cast<std::uint64_t>(std::clamp<std::int64_t>(v, 0, static_cast<std::int64_t>(limit)));
  };
  Overlap o;
  o.x0 = clip(std::max(p.x, tile_x), g.image_width);
  o.x1 = clip(std::min(p.x + static_cast<std::int64_t>(g.patch_width), tile_x + std::int64_t{g.tile_width}), g.image_width);
  o.y0 = clip(std::max(p.y, tile_y), g.image_height);
  o.y1 = clip(std::min(p.y + static_cast<std::int64_t>(g.patch_height), tile_y + std::int64_t{g.tile_height}),
              g.image_height);
  return o;
}

}  // namespace

PatchPlan plan_patches(const PatchGeometry& g, std::span<const PatchCorner> patches, std::size_t patch_count) {
  check<UsageError>(g.tile_width > 0 && g.tile_height > 0 && g.image_width > 0 && g.image_height > 0,
                    "plan_patches: empty tiles or level");
  check<UsageError>(g.patch_width > 0 && g.patch_height > 0, "plan_patches: empty patches ", g.patch_width, " x ",
                    g.patch_height);
  // Coordinates stay far from overflow: a level is at most 2^40 pixels wide, a patch no wider.
  constexpr std::int64_t limit = std::int64_t{1} << 40;
  check<UsageError>(g.image_width <= static_cast<std::uint64_t>(limit) && g.image_height <= static_cast<std::uint64_t>(limit) &&
                        g.patch_width <= static_cast<std::uint64_t>(limit) && g.patch_height <= static_cast<std::uint64_t>(limit),
                    "plan_patches: sizes past 2^40 pixels");
  const std::uint64_t across = (g.image_width + g.tile_width - 1) / g.tile_width;
  const std::uint64_t down = (g.image_height + g.tile_height - 1) / g.tile_height;
  PatchPlan plan;
  for (const PatchCorner& p : patches) {
    check<UsageError>(p.index < patch_count, "plan_patches: patch index ", p.index, " past the batch's ", patch_count,
                      " patches");
    check<UsageError>(p.x > -limit && p.x < limit && p.y > -limit && p.y < limit, "plan_patches: a patch at ", p.x, ",",
                      p.y, " is too far from the level");
    const std::int64_t x1 = p.x + static_cast<std::int64_t>(g.patch_width);
    const std::int64_t y1 = p.y + static_cast<std::int64_t>(g.patch_height);
    const bool inside = p.x >= 0 && p.y >= 0 && x1 <= static_cast<std::int64_t>(g.image_width) &&
                        y1 <= static_cast<std::int64_t>(g.image_height);
    if (!inside) plan.outside.push_back(p.index);
    const std::int64_t left = std::max<std::int64_t>(p.x, 0), top = std::max<std::int64_t>(p.y, 0);
    const std::int64_t right = std::min<std::int64_t>(x1, static_cast<std::int64_t>(g.image_width));
    const std::int64_t bottom = std::min<std::int64_t>(y1, static_cast<std::int64_t>(g.image_height));
    if (left >= right || top >= bottom) continue;  // wholly outside: zeros only
    for (std::int64_t row = top / g.tile_height; row <= (bottom - 1) / g.tile_height; ++row) {
      for (std::int64_t column = left / g.tile_width; column <= (right - 1) / g.tile_width; ++column) {
        plan.pieces.push_back({0, static_cast<std::uint32_t>(column), static_cast<std::uint32_t>(row), p.index, p.x, p.y});
      }
    }
  }
  const auto number = [across](const PatchPiece& p) { return std::uint64_t{p.row} * across + p.column; };
  std::stable_sort(plan.pieces.begin(), plan.pieces.end(),
                   [&](const PatchPiece& a, const PatchPiece& b) { return number(a) < number(b); });
  check<UsageError>(down <= std::uint64_t{0xffffffffu} && across <= std::uint64_t{0xffffffffu},
                    "plan_patches: a grid of ", across, " x ", down, " tiles");
  plan.first_piece.push_back(0);
  for (std::size_t i = 0; i < plan.pieces.size(); ++i) {
    if (i > 0 && number(plan.pieces[i]) != number(plan.pieces[i - 1])) plan.first_piece.push_back(i);
    if (i == 0 || number(plan.pieces[i]) != number(plan.pieces[i - 1]))
      plan.tiles.push_back({plan.pieces[i].column, plan.pieces[i].row});
    plan.pieces[i].tile = static_cast<std::uint32_t>(plan.tiles.size() - 1);
  }
  plan.first_piece.push_back(plan.pieces.size());
  if (plan.tiles.empty()) plan.first_piece.assign(1, 0);
  return plan;
}

namespace {

// A uniform draw in [0, 1) fixed by `key` (splitmix64's finaliser).
double share_draw(std::uint64_t key) {
  std::uint64_t z = key + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

}  // namespace

bool cpu_share_tile(std::uint64_t number, double share) {
  if (share <= 0) return false;
  if (share >= 1) return true;
  return share_draw(number) < share;
}

bool cpu_share_patch(std::int64_t x, std::int64_t y, double share) {
  if (share <= 0) return false;
  if (share >= 1) return true;
  // x drawn first, then mixed with y: neighbouring positions draw independently.
  const std::uint64_t key = static_cast<std::uint64_t>(share_draw(static_cast<std::uint64_t>(x)) * 0x1.0p53) ^
                            static_cast<std::uint64_t>(y) * 0xd1b54a32d192ed03ull;
  return share_draw(key) < share;
}

void place_patch_pieces(std::span<const std::byte> tiles, std::uint32_t tile_base, std::span<const PatchPiece> pieces,
                        const PatchGeometry& g, std::byte* out) {
  const std::size_t pixel = g.pixel_bytes();
  const std::size_t tile_row = std::size_t{g.tile_width} * pixel;
  for (const PatchPiece& p : pieces) {
    check<UsageError>(p.tile >= tile_base && (std::size_t{p.tile} - tile_base + 1) * g.tile_bytes() <= tiles.size(),
                      "place_patch_pieces: tile ", p.tile, " is not in the buffer (from ", tile_base, ", ",
                      tiles.size() / g.tile_bytes(), " tiles)");
    const Overlap o = overlap(g, p);
    if (o.empty()) continue;
    const std::byte* tile = tiles.data() + (p.tile - tile_base) * g.tile_bytes();
    const std::uint64_t tile_x = std::uint64_t{p.column} * g.tile_width;
    const std::uint64_t tile_y = std::uint64_t{p.row} * g.tile_height;
    std::byte* patch = out + p.index * g.patch_bytes();
    for (std::uint64_t y = o.y0; y < o.y1; ++y) {
      std::memcpy(patch + static_cast<std::size_t>(static_cast<std::int64_t>(y) - p.y) * g.patch_row_bytes() +
                      static_cast<std::size_t>(static_cast<std::int64_t>(o.x0) - p.x) * pixel,
                  tile + (y - tile_y) * tile_row + (o.x0 - tile_x) * pixel, (o.x1 - o.x0) * pixel);
    }
  }
}

}  // namespace tilestream::slide
