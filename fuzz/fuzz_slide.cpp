// libFuzzer target over the whole read path: bytes -> MemorySource -> Slide::open (TIFF index,
// vendor rules) -> a few small regions of every level and associated image (tile decoders).
// Only tilestream::Error may escape the library; anything else (a crash, a sanitizer report, a
// std::exception, memory beyond -rss_limit_mb) is a finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "tilestream/core/error.hpp"
#include "tilestream/io/file.hpp"
#include "tilestream/slide/slide.hpp"

namespace {

using tilestream::tiff::ImageInfo;

// Bounds that keep one input's work small: a region decodes every tile it touches whole.
constexpr std::uint64_t max_tile_bytes = std::uint64_t{16} << 20;
constexpr std::uint64_t max_whole_image_bytes = std::uint64_t{4} << 20;
constexpr std::uint64_t region_side = 48;

std::uint64_t decoded_tile_bytes(const ImageInfo& image) {
  return std::uint64_t{image.tile_width} * image.tile_height * image.samples_per_chunk() *
         tilestream::bytes_per_sample(image.stored_dtype);
}

void read_quietly(const tilestream::io::ByteSource& source, const ImageInfo& image, const std::string& place,
                  std::uint64_t x, std::uint64_t y, std::uint64_t width, std::uint64_t height) {
  try {
    const tilestream::HostImage out =
        tilestream::slide::read_image_region(source, image, place, x, y, width, height, 1);
    // Touch the result so that uninitialised or out-of-range writes show up under the sanitizers.
    volatile std::byte sink{0};
    for (const std::byte b : out.bytes()) sink = sink ^ b;
  } catch (const tilestream::Error&) {
  }
}

void exercise(const tilestream::io::ByteSource& source, const ImageInfo& image, const std::string& place) {
  if (decoded_tile_bytes(image) > max_tile_bytes) return;
  const std::uint64_t w = std::min(region_side, image.width);
  const std::uint64_t h = std::min(region_side, image.height);
  read_quietly(source, image, place, 0, 0, w, h);                               // first tile
  read_quietly(source, image, place, image.width - w, image.height - h, w, h);  // last (edge) tile
  read_quietly(source, image, place, (image.width - w) / 2, (image.height - h) / 2, w, h);  // across tiles
  const std::uint64_t whole =
      image.width * image.height * image.samples * tilestream::bytes_per_sample(image.dtype);
  const std::uint64_t tiles = std::uint64_t{image.tiles_across()} * image.tiles_down() * image.planes();
  if (whole <= max_whole_image_bytes && tiles <= 256) {
    read_quietly(source, image, place, 0, 0, image.width, image.height);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto source = std::make_shared<tilestream::io::MemorySource>(
      std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz-input.tif");
  std::optional<tilestream::slide::Slide> slide;
  try {
    slide.emplace(tilestream::slide::Slide::open(source));
  } catch (const tilestream::Error&) {
    return 0;
  }
  for (std::size_t k = 0; k < slide->level_count(); ++k)
    exercise(*source, slide->level(k).image, "level " + std::to_string(k));
  for (const auto& associated : slide->associated_images())
    exercise(*source, associated.image, "associated image '" + associated.name + "'");
  return 0;
}
