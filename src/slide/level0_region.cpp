#include "tilestream/slide/level0_region.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tilestream/core/error.hpp"

namespace tilestream::slide {

LevelRect level_rect(const Slide& slide, std::size_t level, std::int64_t x0, std::int64_t y0,
                     std::uint64_t width, std::uint64_t height) {
  const double downsample = slide.level(level).downsample;
  // Far beyond any slide, and small enough that x + width cannot overflow.
  constexpr std::uint64_t largest = std::uint64_t{1} << 40;
  check<UsageError>(width < largest && height < largest, slide.path(), " level ", level, ": a region of ", width,
                    " x ", height, " pixels");
  check<UsageError>(x0 > -static_cast<std::int64_t>(largest) && x0 < static_cast<std::int64_t>(largest) &&
                        y0 > -static_cast<std::int64_t>(largest) && y0 < static_cast<std::int64_t>(largest),
                    slide.path(), ": location (", x0, ", ", y0, ") is far outside any slide");
  return {static_cast<std::int64_t>(std::floor(static_cast<double>(x0) / downsample)),
          static_cast<std::int64_t>(std::floor(static_cast<double>(y0) / downsample)), width, height};
}

void read_level_rect_into(const Slide& slide, std::size_t level, const LevelRect& rect, std::byte* destination,
                          std::size_t row_stride, unsigned threads) {
  const tiff::ImageInfo& image = slide.level(level).image;
  const std::size_t pixel = image.samples * bytes_per_sample(image.dtype);
  check<UsageError>(rect.width <= row_stride / pixel, slide.path(), " level ", level, ": a row of ", rect.width,
                    " pixels does not fit a stride of ", row_stride, " bytes");
  if (rect.width == 0 || rect.height == 0) return;
  // The part of the rectangle inside the level, in level pixels; empty when none is.
  const auto clamp = [](std::int64_t v, std::uint64_t size) {
    return static_cast<std::uint64_t>(std::clamp<std::int64_t>(v, 0, static_cast<std::int64_t>(size)));
  };
  const std::uint64_t left = clamp(rect.x, image.width), top = clamp(rect.y, image.height);
  const std::uint64_t right = clamp(rect.x + static_cast<std::int64_t>(rect.width), image.width);
  const std::uint64_t bottom = clamp(rect.y + static_cast<std::int64_t>(rect.height), image.height);
  const bool whole = left == static_cast<std::uint64_t>(rect.x) && top == static_cast<std::uint64_t>(rect.y) &&
                     right - left == rect.width && bottom - top == rect.height;
  if (!whole)
    for (std::uint64_t y = 0; y < rect.height; ++y) std::memset(destination + y * row_stride, 0, rect.width * pixel);
  if (left >= right || top >= bottom) return;
  std::byte* inside = destination + static_cast<std::size_t>(static_cast<std::int64_t>(top) - rect.y) * row_stride +
                      static_cast<std::size_t>(static_cast<std::int64_t>(left) - rect.x) * pixel;
  read_image_region_into(slide.source(), image, concat("level ", level), left, top, right - left, bottom - top,
                         threads, inside, row_stride);
}

}  // namespace tilestream::slide
