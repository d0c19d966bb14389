#include "tilestream/slide/level0_region.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

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

InsidePart inside_part(const tiff::ImageInfo& image, const LevelRect& rect) {
  const auto clamp = [](std::int64_t v, std::uint64_t size) {
    return static_cast<std::uint64_t>(std::clamp<std::int64_t>(v, 0, static_cast<std::int64_t>(size)));
  };
  InsidePart in;
  in.left = clamp(rect.x, image.width);
  in.top = clamp(rect.y, image.height);
  in.right = clamp(rect.x + static_cast<std::int64_t>(rect.width), image.width);
  in.bottom = clamp(rect.y + static_cast<std::int64_t>(rect.height), image.height);
  in.whole = in.left == static_cast<std::uint64_t>(rect.x) && in.top == static_cast<std::uint64_t>(rect.y) &&
             in.right - in.left == rect.width && in.bottom - in.top == rect.height;
  return in;
}

void read_level_rects_to(const Slide& slide, std::size_t level, std::span<const LevelRect> rects,
                         std::span<std::byte* const> destinations, std::size_t row_stride, unsigned threads) {
  check<UsageError>(rects.size() == destinations.size(), slide.path(), " level ", level, ": ", rects.size(),
                    " regions for ", destinations.size(), " destinations");
  const tiff::ImageInfo& image = slide.level(level).image;
  const std::size_t pixel = image.samples * bytes_per_sample(image.dtype);
  std::vector<RegionTarget> inside_parts;
  inside_parts.reserve(rects.size());
  for (std::size_t k = 0; k < rects.size(); ++k) {
    const LevelRect& rect = rects[k];
    check<UsageError>(rect.width <= row_stride / pixel, slide.path(), " level ", level, ": a region of ", rect.width,
                      " x ", rect.height, " pixels does not fit rows of ", row_stride, " bytes");
    if (rect.width == 0 || rect.height == 0) continue;
    std::byte* to = destinations[k];
    const InsidePart in = inside_part(image, rect);
    if (!in.whole)
      for (std::uint64_t y = 0; y < rect.height; ++y) std::memset(to + y * row_stride, 0, rect.width * pixel);
    if (in.empty()) continue;
    to += static_cast<std::size_t>(static_cast<std::int64_t>(in.top) - rect.y) * row_stride +
          static_cast<std::size_t>(static_cast<std::int64_t>(in.left) - rect.x) * pixel;
    inside_parts.push_back({in.left, in.top, in.right - in.left, in.bottom - in.top, to, row_stride});
  }
  read_image_regions_into(slide.source(), image, concat("level ", level), inside_parts, threads);
}

void read_level_rects_into(const Slide& slide, std::size_t level, std::span<const LevelRect> rects,
                           std::byte* destination, std::size_t row_stride, std::size_t rect_stride, unsigned threads) {
  std::vector<std::byte*> destinations(rects.size());
  for (std::size_t k = 0; k < rects.size(); ++k) {
    check<UsageError>(rects[k].height * row_stride <= rect_stride, slide.path(), " level ", level, ": a region of ",
                      rects[k].width, " x ", rects[k].height, " pixels does not fit rows of ", row_stride, " bytes, ",
                      rect_stride, " bytes a region");
    destinations[k] = destination + k * rect_stride;
  }
  read_level_rects_to(slide, level, rects, destinations, row_stride, threads);
}

void read_level_rect_into(const Slide& slide, std::size_t level, const LevelRect& rect, std::byte* destination,
                          std::size_t row_stride, unsigned threads) {
  read_level_rects_into(slide, level, {&rect, 1}, destination, row_stride, rect.height * row_stride, threads);
}

void read_level_rect_rgba_into(const Slide& slide, std::size_t level, const LevelRect& rect, std::byte* destination,
                               std::size_t row_stride, unsigned threads) {
  const tiff::ImageInfo& image = slide.level(level).image;
  const std::uint32_t samples = image.samples;
  check<UnsupportedError>(image.dtype == DType::uint8 && (samples == 1 || samples == 3 || samples == 4), slide.path(),
                          " level ", level, ": RGBA needs 8-bit grey or RGB samples, the level has ", samples, " x ",
                          to_string(image.dtype));
  check<UsageError>(rect.width <= row_stride / 4, slide.path(), " level ", level, ": a row of ", rect.width,
                    " RGBA pixels does not fit a stride of ", row_stride, " bytes");
  if (rect.width == 0 || rect.height == 0) return;
  std::vector<std::byte> read(static_cast<std::size_t>(rect.width) * rect.height * samples);
  read_level_rect_into(slide, level, rect, read.data(), static_cast<std::size_t>(rect.width) * samples, threads);
  const InsidePart in = inside_part(image, rect);
  // Pixels of the level whose tile was never written (a sparse TIFF's, a TILED_SPARSE DICOM level's
  // missing frames) are transparent, as OpenSlide leaves missing tiles.
  const auto inside = [&](std::uint64_t row, std::uint64_t col) {
    const std::int64_t x = rect.x + static_cast<std::int64_t>(col), y = rect.y + static_cast<std::int64_t>(row);
    if (in.empty() || x < static_cast<std::int64_t>(in.left) || x >= static_cast<std::int64_t>(in.right) ||
        y < static_cast<std::int64_t>(in.top) || y >= static_cast<std::int64_t>(in.bottom))
      return false;
    const std::size_t tile = image.tile_number(static_cast<std::uint32_t>(x / image.tile_width),
                                               static_cast<std::uint32_t>(y / image.tile_height));
    return image.tile_byte_counts[tile] != 0;
  };
  for (std::uint64_t row = 0; row < rect.height; ++row) {
    const std::byte* from = read.data() + row * rect.width * samples;
    std::byte* to = destination + row * row_stride;
    for (std::uint64_t col = 0; col < rect.width; ++col, from += samples, to += 4) {
      if (!inside(row, col)) {
        std::memset(to, 0, 4);
        continue;
      }
      to[0] = from[0];
      to[1] = from[samples == 1 ? 0 : 1];
      to[2] = from[samples == 1 ? 0 : 2];
      to[3] = std::byte{255};
    }
  }
}

}  // namespace tilestream::slide
