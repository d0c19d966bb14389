// Checking pieces read from a level (a region, a batch of square patches) against the level read whole.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "tilestream/core/host_image.hpp"
#include "tilestream/slide/place_patches.hpp"

namespace tilestream::testing {

// `region` (its own width and height) is the rectangle of `level` whose top-left pixel is (x, y), which
// lies inside the level. Fails naming `what` and the row.
inline void expect_region_of(const HostImage& region, const HostImage& level, std::uint64_t x, std::uint64_t y,
                             const std::string& what) {
  const std::size_t pixel = level.pixel_bytes();
  ASSERT_LE(x + region.width(), level.width()) << what;
  ASSERT_LE(y + region.height(), level.height()) << what;
  for (std::uint64_t r = 0; r < region.height(); ++r) {
    ASSERT_EQ(std::memcmp(region.data() + r * region.width() * pixel, level.data() + ((y + r) * level.width() + x) * pixel,
                          region.width() * pixel),
              0)
        << what << ": region row " << r;
  }
}

// Patch k of `patches` (side x side pixels each, stacked top to bottom) is the square of `level` whose
// top-left pixel is corners[k] (corners at or right of and below (0, 0)), zeros where it lies past the
// level's right or bottom edge. Fails naming `what`, the patch and the row.
inline void expect_patches_of(const HostImage& patches, const HostImage& level,
                              std::span<const slide::PatchCorner> corners, std::uint64_t side, const std::string& what) {
  const std::size_t pixel = level.pixel_bytes();
  std::string want(side * pixel, '\0');
  for (std::size_t k = 0; k < corners.size(); ++k) {
    for (std::uint64_t r = 0; r < side; ++r) {
      std::fill(want.begin(), want.end(), '\0');
      const auto x = static_cast<std::uint64_t>(corners[k].x);
      const auto y = static_cast<std::uint64_t>(corners[k].y) + r;
      if (y < level.height() && x < level.width()) {
        const std::uint64_t inside = std::min<std::uint64_t>(side, level.width() - x);
        std::memcpy(want.data(), level.data() + (y * level.width() + x) * pixel, inside * pixel);
      }
      ASSERT_EQ(std::memcmp(patches.data() + (k * side + r) * side * pixel, want.data(), side * pixel), 0)
          << what << ": patch " << k << ", row " << r;
    }
  }
}

}  // namespace tilestream::testing
