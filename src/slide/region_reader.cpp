// read_image_region: finds the tiles a rectangle touches, reads and decodes them on a pool of
// threads, and copies each tile's overlap with the rectangle into the output image.
#include <algorithm>
#include <cstring>
#include <vector>

#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/memory_budget.hpp"
#include "tilestream/core/parallel.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::slide {
namespace {

struct Rect {
  std::uint64_t x, y, width, height;
};

// Where the rectangle's pixels go: rows `row_stride` bytes apart, pixels packed.
struct Target {
  std::byte* data;
  std::size_t row_stride;
  std::size_t pixel_bytes;
  std::byte* row(std::uint64_t y) const { return data + y * row_stride; }
};

// Per-thread buffers, reused across the tiles one thread decodes.
struct Scratch {
  std::vector<std::byte> stored;
  std::vector<std::byte> decoded;
};

codec::TileLayout layout_of(const tiff::ImageInfo& image, std::uint32_t ty) {
  codec::TileLayout layout;
  layout.width = image.tile_width;
  layout.rows = image.stored_rows(ty);
  layout.samples = image.samples_per_chunk();
  layout.dtype = storage_type(image.dtype);
  layout.predictor = image.predictor;
  layout.photometric = image.photometric;
  layout.big_endian = image.big_endian;
  layout.jpeg_tables = image.jpeg_tables;
  return layout;
}

// Reads and decodes tile (tx, ty) of one plane into `dst` (rows `row_stride` bytes apart).
// Errors get the file, place, IFD, tile number, position and byte offset in front.
void decode_one(const io::ByteSource& source, const tiff::ImageInfo& image, const std::string& place,
                std::uint32_t tx, std::uint32_t ty, std::uint32_t plane, Scratch& scratch,
                std::byte* dst, std::size_t row_stride) {
  const codec::TileLayout layout = layout_of(image, ty);
  const std::size_t number = image.tile_number(tx, ty, plane);
  const std::uint64_t offset = image.tile_offsets[number];
  const std::uint64_t count = image.tile_byte_counts[number];
  const char* unit = image.tiled ? "tile" : "strip";
  if (count == 0) {  // sparse tile
    const std::size_t row_bytes = layout.decoded_bytes() / layout.rows;
    for (std::uint32_t r = 0; r < layout.rows; ++r) std::memset(dst + r * row_stride, 0, row_bytes);
    return;
  }
  try {
    scratch.stored.resize(count);
    source.read_exact(offset, scratch.stored);
    codec::decode_tile_into(image.compression, scratch.stored, layout, dst, row_stride);
  } catch (const Error& e) {
    rethrow_with_context(e, concat(source.name(), ": ", place, " (", image.ifd_label, "), ", unit, " ",
                                   number, " (column ", tx, ", row ", ty,
                                   image.planes() > 1 ? concat(", plane ", plane) : std::string(),
                                   ") at offset ", offset, ", ", count, " bytes"));
  }
}

// Copies the part of the decoded tile that overlaps `rect` into `out`.
void place_tile(const tiff::ImageInfo& image, const codec::TileLayout& layout, std::uint32_t tx,
                std::uint32_t ty, std::uint32_t plane, const std::vector<std::byte>& decoded,
                const Rect& rect, const Target& out) {
  const std::uint64_t tile_x = std::uint64_t{tx} * image.tile_width;
  const std::uint64_t tile_y = std::uint64_t{ty} * image.tile_height;
  const std::uint64_t x0 = std::max(rect.x, tile_x);
  const std::uint64_t x1 = std::min({rect.x + rect.width, tile_x + image.tile_width, image.width});
  const std::uint64_t y0 = std::max(rect.y, tile_y);
  const std::uint64_t y1 = std::min({rect.y + rect.height, tile_y + layout.rows, image.height});
  if (x0 >= x1 || y0 >= y1) return;
  const std::size_t sample = bytes_per_sample(image.dtype);
  const std::size_t tile_pixel = layout.samples * sample;
  const std::size_t tile_row = std::size_t{layout.width} * tile_pixel;
  for (std::uint64_t y = y0; y < y1; ++y) {
    const std::byte* src = decoded.data() + (y - tile_y) * tile_row + (x0 - tile_x) * tile_pixel;
    std::byte* dst = out.row(y - rect.y) + (x0 - rect.x) * out.pixel_bytes;
    if (image.planes() == 1) {
      std::memcpy(dst, src, (x1 - x0) * tile_pixel);
    } else {  // one plane of a planar image: scatter its sample into every pixel
      dst += plane * sample;
      for (std::uint64_t x = x0; x < x1; ++x, src += sample, dst += out.pixel_bytes)
        std::memcpy(dst, src, sample);
    }
  }
}

}  // namespace

void check_region(const std::string& file, const std::string& place, const tiff::ImageInfo& image,
                  std::uint64_t x, std::uint64_t y, std::uint64_t width, std::uint64_t height) {
  check<UsageError>(width > 0 && height > 0, file, ": ", place, ": empty region ", width,
                    " x ", height);
  check<UsageError>(x < image.width && y < image.height && width <= image.width - x &&
                        height <= image.height - y,
                    file, ": ", place, ": region ", x, ",", y, " ", width, "x", height,
                    " is outside the image (", image.width, " x ", image.height, ")");
}

void read_image_region_into(const io::ByteSource& source, const tiff::ImageInfo& image,
                            const std::string& place, std::uint64_t x, std::uint64_t y, std::uint64_t width,
                            std::uint64_t height, unsigned threads, std::byte* destination,
                            std::size_t row_stride) {
  if (!image.unsupported_reason.empty()) {
    throw UnsupportedError(concat(image.unsupported_reason, " (", place, ")"));
  }
  check_region(source.name(), place, image, x, y, width, height);
  const Target out{destination, row_stride, std::size_t{image.samples} * bytes_per_sample(image.dtype)};
  check<UsageError>(destination != nullptr && row_stride >= width * out.pixel_bytes, source.name(), ": ", place,
                    ": rows of ", width * out.pixel_bytes, " bytes do not fit a row stride of ", row_stride);
  const Rect rect{x, y, width, height};
  const auto tx0 = static_cast<std::uint32_t>(x / image.tile_width);
  const auto tx1 = static_cast<std::uint32_t>((x + width - 1) / image.tile_width);
  const auto ty0 = static_cast<std::uint32_t>(y / image.tile_height);
  const auto ty1 = static_cast<std::uint32_t>((y + height - 1) / image.tile_height);
  const std::size_t across = tx1 - tx0 + 1;
  const std::size_t count = across * (ty1 - ty0 + 1) * image.planes();

  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(resolve_threads(threads), count));
  // Each worker may hold one decoded tile (or strip) and its stored bytes, whose sizes the file sets.
  const std::uint64_t tile_bytes = std::uint64_t{image.tile_width} * image.tile_height *
                                   image.samples_per_chunk() * bytes_per_sample(image.dtype);
  check_host_memory({.file = source.name(),
                     .place = place,
                     .what = concat("decoding on ", workers, " threads, each with a ", image.tile_width, " x ",
                                    image.tile_height, " ", image.tiled ? "tile" : "strip", " and its stored bytes"),
                     .bytes = 2 * workers * tile_bytes,
                     .ways_out = {}});
  std::vector<Scratch> scratch(workers);
  parallel_for_workers(count, workers, [&](std::size_t i, unsigned worker) {
    const auto plane = static_cast<std::uint32_t>(i / (count / image.planes()));
    const std::size_t in_plane = i % (count / image.planes());
    const auto tx = static_cast<std::uint32_t>(tx0 + in_plane % across);
    const auto ty = static_cast<std::uint32_t>(ty0 + in_plane / across);
    Scratch& mine = scratch[worker];
    const std::uint64_t tile_x = std::uint64_t{tx} * image.tile_width;
    const std::uint64_t tile_y = std::uint64_t{ty} * image.tile_height;
    const codec::TileLayout layout = layout_of(image, ty);
    const bool inside = image.planes() == 1 && tile_x >= x && tile_x + layout.width <= x + width &&
                        tile_y >= y && tile_y + layout.rows <= y + height;
    if (inside) {  // the common case: decode straight into the output, no copy
      decode_one(source, image, place, tx, ty, plane, mine, out.row(tile_y - y) + (tile_x - x) * out.pixel_bytes,
                 out.row_stride);
      return;
    }
    mine.decoded.resize(layout.decoded_bytes());
    decode_one(source, image, place, tx, ty, plane, mine, mine.decoded.data(),
               layout.decoded_bytes() / layout.rows);
    place_tile(image, layout, tx, ty, plane, mine.decoded, rect, out);
  });
}

HostImage read_image_region(const io::ByteSource& source, const tiff::ImageInfo& image,
                            const std::string& place, std::uint64_t x, std::uint64_t y,
                            std::uint64_t width, std::uint64_t height, unsigned threads) {
  if (!image.unsupported_reason.empty()) {
    throw UnsupportedError(concat(image.unsupported_reason, " (", place, ")"));
  }
  check_region(source.name(), place, image, x, y, width, height);
  const bool whole = x == 0 && y == 0 && width == image.width && height == image.height;
  check_host_memory({.file = source.name(),
                     .place = whole ? place : concat(place, " region ", x, ",", y, " ", width, "x", height),
                     .what = concat("reading ", height, " x ", width, " x ", image.samples, " ",
                                    to_string(image.dtype), whole ? " (the whole image)" : ""),
                     .bytes = image_bytes(height, width, image.samples, image.dtype),
                     .ways_out = {WayOut::region}});
  HostImage out(height, width, image.samples, image.dtype);
  read_image_region_into(source, image, place, x, y, width, height, threads, out.data(), out.row_bytes());
  return out;
}

}  // namespace tilestream::slide
