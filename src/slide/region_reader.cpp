// read_image_region: finds the tiles a rectangle touches, reads and decodes them on a pool of
// threads, and copies each tile's overlap with the rectangle into the output image, through the
// image's photometric conversion (codec/photometric.hpp) where it has one.
#include <algorithm>
#include <cstring>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include "tilestream/codec/codec.hpp"
#include "tilestream/codec/photometric.hpp"
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
  layout.dtype = storage_type(image.stored_dtype);
  layout.predictor = image.predictor;
  layout.photometric = image.photometric;
  layout.big_endian = image.big_endian;
  layout.jpeg_tables = image.jpeg_tables;
  layout.bilevel = image.bits_per_sample == 1;
  layout.bilevel_lsb_first = image.fill_order == 2;
  layout.bilevel_max = image.bilevel_max;
  layout.jpeg_header = image.jpeg_header;
  layout.jpeg_scale_denom = image.jpeg_scale_denom;
  return layout;
}

// Reads and decodes tile (tx, ty) of one plane into `dst` (rows `row_stride` bytes apart); with a
// `window`, at least that part of it (codec::decode_tile_window_into). Errors get the file, place,
// IFD, tile number, position and byte offset in front.
void decode_one(const io::ByteSource& source, const tiff::ImageInfo& image, const std::string& place,
                std::uint32_t tx, std::uint32_t ty, std::uint32_t plane, Scratch& scratch,
                std::byte* dst, std::size_t row_stride, const codec::TileWindow* window = nullptr) {
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
    if (window != nullptr)
      codec::decode_tile_window_into(image.compression, scratch.stored, layout, *window, dst, row_stride);
    else
      codec::decode_tile_into(image.compression, scratch.stored, layout, dst, row_stride);
  } catch (const Error& e) {
    rethrow_with_context(e, concat(source.name(), ": ", place, " (", image.ifd_label,
                                   image.jpeg_scale_denom != 1 ? concat(" at 1/", image.jpeg_scale_denom) : "", "), ",
                                   unit, " ",
                                   number, " (column ", tx, ", row ", ty,
                                   image.planes() > 1 ? concat(", plane ", plane) : std::string(),
                                   ") at ", source.locate(offset), ", ", count, " bytes"));
  }
}

// The part of tile (tx, ty) that overlaps `rect`, in image coordinates; empty when x0 >= x1 or y0 >= y1.
struct Overlap {
  std::uint64_t tile_x, tile_y, x0, x1, y0, y1;
  bool empty() const { return x0 >= x1 || y0 >= y1; }
};

Overlap overlap_of(const tiff::ImageInfo& image, const codec::TileLayout& layout, std::uint32_t tx,
                   std::uint32_t ty, const Rect& rect) {
  Overlap o;
  o.tile_x = std::uint64_t{tx} * image.tile_width;
  o.tile_y = std::uint64_t{ty} * image.tile_height;
  o.x0 = std::max(rect.x, o.tile_x);
  o.x1 = std::min({rect.x + rect.width, o.tile_x + image.tile_width, image.width});
  o.y0 = std::max(rect.y, o.tile_y);
  o.y1 = std::min({rect.y + rect.height, o.tile_y + layout.rows, image.height});
  return o;
}

// Copies the part of the decoded tile that overlaps `rect` into `out` (images without a conversion).
void place_tile(const tiff::ImageInfo& image, const codec::TileLayout& layout, std::uint32_t tx,
                std::uint32_t ty, std::uint32_t plane, const std::vector<std::byte>& decoded,
                const Rect& rect, const Target& out) {
  const Overlap o = overlap_of(image, layout, tx, ty, rect);
  if (o.empty()) return;
  const std::size_t sample = bytes_per_sample(image.dtype);
  const std::size_t tile_pixel = layout.samples * sample;
  const std::size_t tile_row = std::size_t{layout.width} * tile_pixel;
  for (std::uint64_t y = o.y0; y < o.y1; ++y) {
    const std::byte* src = decoded.data() + (y - o.tile_y) * tile_row + (o.x0 - o.tile_x) * tile_pixel;
    std::byte* dst = out.row(y - rect.y) + (o.x0 - rect.x) * out.pixel_bytes;
    if (image.planes() == 1) {
      std::memcpy(dst, src, (o.x1 - o.x0) * tile_pixel);
    } else {  // one plane of a planar image: scatter its sample into every pixel
      dst += plane * sample;
      for (std::uint64_t x = o.x0; x < o.x1; ++x, src += sample, dst += out.pixel_bytes)
        std::memcpy(dst, src, sample);
    }
  }
}

// Converts the part of the decoded (stored) tile that overlaps `rect` into pixels in `out`. Images
// with a conversion have one plane: the planar layouts the table takes hold a single sample.
void convert_tile(const tiff::ImageInfo& image, const codec::TileLayout& layout, std::uint32_t tx,
                  std::uint32_t ty, const std::vector<std::byte>& decoded, const Rect& rect, const Target& out) {
  const Overlap o = overlap_of(image, layout, tx, ty, rect);
  if (o.empty()) return;
  const std::size_t stored_pixel = image.conversion.stored_pixel_bytes();
  const std::size_t tile_row = std::size_t{layout.width} * stored_pixel;
  for (std::uint64_t y = o.y0; y < o.y1; ++y) {
    codec::convert_pixels(image.conversion,
                          decoded.data() + (y - o.tile_y) * tile_row + (o.x0 - o.tile_x) * stored_pixel,
                          out.row(y - rect.y) + (o.x0 - rect.x) * out.pixel_bytes, o.x1 - o.x0);
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

void read_image_regions_into(const io::ByteSource& source, const tiff::ImageInfo& image, const std::string& place,
                             std::span<const RegionTarget> regions, unsigned threads) {
  image.check_readable(place);
  check<UnsupportedError>(image.conversion.identity() || image.planes() == 1, source.name(), ": ", place, " (",
                          image.ifd_label, "): ", image.conversion.name, " of separate planes is not supported");
  const std::size_t pixel_bytes = std::size_t{image.samples} * bytes_per_sample(image.dtype);
  // Every tile (or strip) that some region touches, once, with the regions it serves: a tile shared
  // by several regions is read and decoded once. Ordered by plane, row and column.
  struct TileKey {
    std::uint32_t plane, ty, tx;
    auto operator<=>(const TileKey&) const = default;
  };
  std::map<TileKey, std::vector<std::size_t>> users;
  for (std::size_t r = 0; r < regions.size(); ++r) {
    const RegionTarget& t = regions[r];
    check_region(source.name(), place, image, t.x, t.y, t.width, t.height);
    check<UsageError>(t.data != nullptr && t.row_stride >= t.width * pixel_bytes, source.name(), ": ", place,
                      ": rows of ", t.width * pixel_bytes, " bytes do not fit a row stride of ", t.row_stride);
    const auto tx0 = static_cast<std::uint32_t>(t.x / image.tile_width);
    const auto tx1 = static_cast<std::uint32_t>((t.x + t.width - 1) / image.tile_width);
    const auto ty0 = static_cast<std::uint32_t>(t.y / image.tile_height);
    const auto ty1 = static_cast<std::uint32_t>((t.y + t.height - 1) / image.tile_height);
    for (std::uint32_t plane = 0; plane < image.planes(); ++plane)
      for (std::uint32_t ty = ty0; ty <= ty1; ++ty)
        for (std::uint32_t tx = tx0; tx <= tx1; ++tx) users[{plane, ty, tx}].push_back(r);
  }
  if (users.empty()) return;
  const std::vector<std::pair<TileKey, std::vector<std::size_t>>> tiles(users.begin(), users.end());

  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(resolve_threads(threads), tiles.size()));
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
  // Distinct tiles cover distinct pixels of every region, so the workers never write the same bytes.
  parallel_for_workers(tiles.size(), workers, [&](std::size_t i, unsigned worker) {
    const auto& [key, served] = tiles[i];
    const auto [plane, ty, tx] = key;
    Scratch& mine = scratch[worker];
    const std::uint64_t tile_x = std::uint64_t{tx} * image.tile_width;
    const std::uint64_t tile_y = std::uint64_t{ty} * image.tile_height;
    const codec::TileLayout layout = layout_of(image, ty);
    const auto rect_of = [&](std::size_t r) {
      return Rect{regions[r].x, regions[r].y, regions[r].width, regions[r].height};
    };
    const auto target_of = [&](std::size_t r) { return Target{regions[r].data, regions[r].row_stride, pixel_bytes}; };
    // The part of the tile the regions it serves need: decoding can stop short of the rest.
    codec::TileWindow window{layout.width, layout.rows, 0, 0};
    for (const std::size_t r : served) {
      const Overlap o = overlap_of(image, layout, tx, ty, rect_of(r));
      window.left = std::min(window.left, static_cast<std::uint32_t>(o.x0 - tile_x));
      window.right = std::max(window.right, static_cast<std::uint32_t>(o.x1 - tile_x));
      window.top = std::min(window.top, static_cast<std::uint32_t>(o.y0 - tile_y));
      window.bottom = std::max(window.bottom, static_cast<std::uint32_t>(o.y1 - tile_y));
    }
    if (!image.conversion.identity()) {
      mine.decoded.resize(layout.decoded_bytes());
      decode_one(source, image, place, tx, ty, plane, mine, mine.decoded.data(),
                 layout.decoded_bytes() / layout.rows, &window);
      for (const std::size_t r : served) convert_tile(image, layout, tx, ty, mine.decoded, rect_of(r), target_of(r));
      return;
    }
    if (served.size() == 1) {
      const RegionTarget& t = regions[served.front()];
      const bool inside = image.planes() == 1 && tile_x >= t.x && tile_x + layout.width <= t.x + t.width &&
                          tile_y >= t.y && tile_y + layout.rows <= t.y + t.height;
      if (inside) {  // the common case: decode straight into the output, no copy
        const Target out = target_of(served.front());
        decode_one(source, image, place, tx, ty, plane, mine,
                   out.row(tile_y - t.y) + (tile_x - t.x) * out.pixel_bytes, out.row_stride);
        return;
      }
    }
    mine.decoded.resize(layout.decoded_bytes());
    decode_one(source, image, place, tx, ty, plane, mine, mine.decoded.data(),
               layout.decoded_bytes() / layout.rows, &window);
    for (const std::size_t r : served) place_tile(image, layout, tx, ty, plane, mine.decoded, rect_of(r), target_of(r));
  });
}

void read_image_region_into(const io::ByteSource& source, const tiff::ImageInfo& image,
                            const std::string& place, std::uint64_t x, std::uint64_t y, std::uint64_t width,
                            std::uint64_t height, unsigned threads, std::byte* destination,
                            std::size_t row_stride) {
  const RegionTarget region{x, y, width, height, destination, row_stride};
  read_image_regions_into(source, image, place, {&region, 1}, threads);
}

HostImage read_image_region(const io::ByteSource& source, const tiff::ImageInfo& image,
                            const std::string& place, std::uint64_t x, std::uint64_t y,
                            std::uint64_t width, std::uint64_t height, unsigned threads) {
  image.check_readable(place);
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
