// Regions addressed as OpenSlide addresses them: the location in level-0 pixels, the size in the
// read level's pixels, and any part outside the level read as zeros (OpenSlide's transparent pixels)
// instead of being an error. The Python API's read_region and its OpenSlide shim read through this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tilestream/slide/slide.hpp"

namespace tilestream::slide {

// The level's rectangle a level-0 location and a level size stand for: x0 / downsample rounded down
// (OpenSlide's rule), and the same for y0.
struct LevelRect {
  std::int64_t x = 0, y = 0;
  std::uint64_t width = 0, height = 0;
};
LevelRect level_rect(const Slide& slide, std::size_t level, std::int64_t x0, std::int64_t y0,
                     std::uint64_t width, std::uint64_t height);

// The part of a rectangle that lies inside an image, in the image's pixels: [left, right) x [top,
// bottom), empty when none does; `whole` when that is the whole rectangle.
struct InsidePart {
  std::uint64_t left = 0, top = 0, right = 0, bottom = 0;
  bool empty() const { return left >= right || top >= bottom; }
  bool whole = false;
};
InsidePart inside_part(const tiff::ImageInfo& image, const LevelRect& rect);

// Reads `rect` of `level` into caller memory: rect.height rows of rect.width pixels of the level's
// samples and dtype, `row_stride` bytes apart; pixels outside the level are set to 0. Tiles are decoded
// on `threads` threads (0: the settings' default). UsageError when a row does not fit the stride or the
// level does not exist; the slide's errors (IoError, CodecError...) name file, level and tile.
void read_level_rect_into(const Slide& slide, std::size_t level, const LevelRect& rect, std::byte* destination,
                          std::size_t row_stride, unsigned threads);

// Many rectangles of one level at once (a batch of patches), each read as read_level_rect_into reads
// it, rectangle k into `destination` + k * `rect_stride`: every tile that several rectangles share is
// read and decoded once (slide::read_image_regions_into). UsageError where a rectangle does not fit
// its rows or its share of the memory.
void read_level_rects_into(const Slide& slide, std::size_t level, std::span<const LevelRect> rects,
                           std::byte* destination, std::size_t row_stride, std::size_t rect_stride, unsigned threads);

// The same with a destination per rectangle (patches of several slides interleaved in one batch):
// rectangle k goes to `destinations[k]`, rows `row_stride` bytes apart. UsageError when the counts
// differ or a row does not fit the stride.
void read_level_rects_to(const Slide& slide, std::size_t level, std::span<const LevelRect> rects,
                         std::span<std::byte* const> destinations, std::size_t row_stride, unsigned threads);

// The same rectangle as OpenSlide's read_region renders it: 8-bit RGBA, alpha 255 inside the level and
// every byte 0 outside and in tiles never written (OpenSlide's transparent pixels), grey levels repeated into R, G and B (a fourth
// stored sample is not used as alpha).
// `row_stride` as above, for rect.width x 4 bytes. UnsupportedError naming file and level where the
// level is not 8-bit grey or RGB(A).
void read_level_rect_rgba_into(const Slide& slide, std::size_t level, const LevelRect& rect, std::byte* destination,
                               std::size_t row_stride, unsigned threads);

}  // namespace tilestream::slide
