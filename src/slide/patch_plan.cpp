#include "tilestream/slide/patch_plan.hpp"

#include <algorithm>
#include <cmath>

#include "tilestream/core/error.hpp"
#include "tilestream/slide/level0_region.hpp"

namespace tilestream::slide {
namespace {

std::int64_t level_coordinate_of(const Slide& slide, std::size_t level, std::int64_t x0) {
  return level_rect(slide, level, x0, 0, 0, 0).x;
}

// splitmix64 (Steele, Lea and Flood 2014): a tiny generator whose output is fixed by its definition,
// unlike std::shuffle's use of a standard engine, whose results differ between standard libraries.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A uniform integer in [0, bound) by rejection (no modulo bias).
std::uint64_t uniform_below(std::uint64_t bound, std::uint64_t& state) {
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % bound);
  std::uint64_t r = splitmix64(state);
  while (r >= limit) r = splitmix64(state);
  return r % bound;
}

}  // namespace

std::int64_t level0_location(const Slide& slide, std::size_t level, std::int64_t level_coordinate) {
  const double downsample = slide.level(level).downsample;
  auto x0 = static_cast<std::int64_t>(std::ceil(static_cast<double>(level_coordinate) * downsample));
  // Floating-point rounding can put the estimate one step off either way; level_rect decides.
  while (level_coordinate_of(slide, level, x0) > level_coordinate) --x0;
  while (level_coordinate_of(slide, level, x0) < level_coordinate &&
         level_coordinate_of(slide, level, x0 + 1) <= level_coordinate)
    ++x0;
  while (level_coordinate_of(slide, level, x0 - 1) == level_coordinate) --x0;
  return x0;
}

std::vector<PatchRef> patch_grid(const Slide& slide, std::uint32_t slide_index, std::size_t level,
                                 const PatchGrid& grid, const PatchMask* mask) {
  check<UsageError>(level < slide.level_count(), slide.path(), ": level ", level, " does not exist (",
                    slide.level_count(), " levels)");
  check<UsageError>(grid.width > 0 && grid.height > 0, slide.path(), ": a grid of ", grid.width, " x ", grid.height,
                    " patches");
  check<UsageError>(grid.stride_x > 0 && grid.stride_y > 0, slide.path(), ": a grid stride of ", grid.stride_x,
                    " x ", grid.stride_y);
  check<UsageError>(mask == nullptr || (mask->data != nullptr && mask->rows > 0 && mask->cols > 0), slide.path(),
                    ": the mask has no pixels");
  const tiff::ImageInfo& image = slide.level(level).image;
  const tiff::ImageInfo& base = slide.level(0).image;
  const auto positions = [&](std::uint64_t extent, std::uint64_t size, std::uint64_t stride) {
    std::vector<std::int64_t> out;
    const std::uint64_t last = grid.cover_edges ? extent : (extent >= size ? extent - size + 1 : 0);
    for (std::uint64_t p = 0; p < last; p += stride) out.push_back(static_cast<std::int64_t>(p));
    return out;
  };
  const std::vector<std::int64_t> xs = positions(image.width, grid.width, grid.stride_x);
  const std::vector<std::int64_t> ys = positions(image.height, grid.height, grid.stride_y);
  std::vector<std::int64_t> xs0, ys0;
  for (const std::int64_t x : xs) xs0.push_back(level0_location(slide, level, x));
  for (const std::int64_t y : ys) ys0.push_back(level0_location(slide, level, y));
  const double downsample = slide.level(level).downsample;
  std::vector<PatchRef> out;
  for (std::size_t j = 0; j < ys.size(); ++j) {
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (mask != nullptr) {
        // The patch's centre in level-0 pixels, then in the mask's pixels.
        const double cx = (static_cast<double>(xs[i]) + static_cast<double>(grid.width) / 2) * downsample;
        const double cy = (static_cast<double>(ys[j]) + static_cast<double>(grid.height) / 2) * downsample;
        const auto col = static_cast<std::uint64_t>(
            std::clamp(std::floor(cx * static_cast<double>(mask->cols) / static_cast<double>(base.width)), 0.0,
                       static_cast<double>(mask->cols - 1)));
        const auto row = static_cast<std::uint64_t>(
            std::clamp(std::floor(cy * static_cast<double>(mask->rows) / static_cast<double>(base.height)), 0.0,
                       static_cast<double>(mask->rows - 1)));
        if (mask->data[row * mask->cols + col] == 0) continue;
      }
      out.push_back({slide_index, xs0[i], ys0[j]});
    }
  }
  return out;
}

std::vector<SlidePatchGroup> group_by_slide(std::span<const PatchRef> patches) {
  std::vector<SlidePatchGroup> groups;
  std::vector<std::size_t> order(patches.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return patches[a].slide < patches[b].slide; });
  for (const std::size_t k : order) {
    if (groups.empty() || groups.back().slide != patches[k].slide) groups.push_back({patches[k].slide, {}});
    groups.back().positions.push_back(k);
  }
  return groups;
}

std::vector<std::size_t> epoch_order(std::size_t count, bool shuffle, std::uint64_t seed, std::uint64_t epoch) {
  std::vector<std::size_t> order(count);
  for (std::size_t k = 0; k < count; ++k) order[k] = k;
  if (!shuffle) return order;
  std::uint64_t state = seed;
  state = splitmix64(state) ^ epoch;  // seed and epoch both change the whole sequence
  for (std::size_t k = count; k > 1; --k) std::swap(order[k - 1], order[uniform_below(k, state)]);
  return order;
}

}  // namespace tilestream::slide
