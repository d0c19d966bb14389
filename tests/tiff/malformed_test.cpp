// Malformed-file corpus, OpenSlide style: a valid file built here (classic or BigTIFF, either byte
// order, tiles or strips, uncompressed / deflate / LZW / JPEG) plus one mutation, and the error it
// must give: its type, whether it comes at open or at read, and what the message names (the file,
// and the IFD / tag / tile / offset). Files are made in memory by tests/support/tiff_builder.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <ostream>
#include <string>
#include <vector>

#include "support/tiff_builder.hpp"
#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/io/file.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::test {
namespace {

namespace compression = codec::compression;

enum class Stage { open, read };

struct MalformedCase {
  std::string name;  // also the file name: "broken-<name>.tif"
  BaseOptions base;
  std::function<void(TiffBytes&)> mutate;
  Stage stage;
  ErrorKind kind;
  std::vector<std::string> expected;  // substrings of the message, besides the file name
};

std::vector<std::byte> garbage(std::size_t n, std::uint32_t seed) {
  std::vector<std::byte> out(n);
  for (auto& b : out) {
    seed = seed * 1664525u + 1013904223u;
    b = static_cast<std::byte>(seed >> 24);
  }
  return out;
}

BaseOptions classic_le(std::uint16_t c = compression::none) { return {.compression = c}; }
BaseOptions classic_be(std::uint16_t c = compression::none) { return {.big_endian = true, .compression = c}; }
BaseOptions bigtiff_le(std::uint16_t c = compression::none) { return {.big_tiff = true, .compression = c}; }
BaseOptions bigtiff_be(std::uint16_t c = compression::none) {
  return {.big_tiff = true, .big_endian = true, .compression = c};
}
// Hamamatsu NDPI's layout (classic TIFF, 64-bit offsets through high bits after each IFD): one
// strip per image, as NDPI stores its levels, or tiles where a test wants an offset array.
BaseOptions ndpi(std::uint32_t levels = 1, bool tiled = false) {
  return {.ndpi = true, .tiled = tiled, .tile = tiled ? 16u : 36u, .levels = levels};
}
// NDPI levels as Hamamatsu stores them: one JPEG strip each (64 x 24, 4:4:4) with a restart marker
// every 16 pixels of an MCU row (4 x 3 intervals) and McuStarts (65426).
BaseOptions ndpi_intervals(std::uint32_t levels = 1) {
  return {.ndpi = true,
          .compression = compression::jpeg,
          .tiled = false,
          .width = 64,
          .height = 24,
          .levels = levels,
          .restart_interval = 16};
}
BaseOptions with(BaseOptions o, const std::function<void(BaseOptions&)>& change) {
  change(o);
  return o;
}

constexpr std::uint16_t image_width = 256, image_length = 257, bits_per_sample = 258, compression_tag = 259,
                        image_description = 270, strip_offsets = 273, samples_per_pixel = 277,
                        rows_per_strip = 278, strip_byte_counts = 279, planar_config = 284, tile_width = 322,
                        tile_length = 323, tile_offsets = 324, tile_byte_counts = 325, sub_ifds = 330,
                        jpeg_tables = 347, mcu_starts = 65426;

std::vector<MalformedCase> cases() {
  using K = ErrorKind;
  const auto strips = [](BaseOptions& o) {
    o.tiled = false;
    o.tile = 8;
  };
  const auto two_levels = [](BaseOptions& o) { o.levels = 2; };
  const auto data_last = [](BaseOptions& o) { o.data_after_ifds = true; };
  std::vector<MalformedCase> all = {
      // ---- header ----
      {"truncated-header",
       classic_le(),
       [](TiffBytes& t) { t.truncate(5); },
       Stage::open,
       K::format,
       {"not a TIFF file", "only 5 bytes"}},
      {"wrong-magic",
       classic_le(),
       [](TiffBytes& t) {
         t.put_bytes(0, {std::byte{'X'}, std::byte{'Y'}});
       },
       Stage::open,
       K::format,
       {"not a TIFF file", "offset 0"}},
      {"wrong-version",
       classic_be(),
       [](TiffBytes& t) { t.put_uint(2, 44, 2); },
       Stage::open,
       K::format,
       {"version 44", "offset 2"}},
      {"bigtiff-offset-size-4",
       bigtiff_le(),
       [](TiffBytes& t) { t.put_uint(4, 4, 2); },
       Stage::open,
       K::format,
       {"BigTIFF header", "offset 4", "offset size 4"}},
      {"bigtiff-truncated-header",
       bigtiff_be(),
       [](TiffBytes& t) { t.truncate(12); },
       Stage::open,
       K::format,
       {"BigTIFF header truncated", "12 bytes"}},
      {"first-ifd-zero",
       classic_le(),
       [](TiffBytes& t) { t.set_first_ifd(0); },
       Stage::open,
       K::format,
       {"first IFD offset is 0"}},
      // ---- IFD chain ----
      {"first-ifd-past-end",
       classic_le(),
       [](TiffBytes& t) { t.set_first_ifd(1'000'000); },
       Stage::open,
       K::format,
       {"IFD 0 at offset 1000000", "past the end of the file"}},
      {"truncated-in-ifd",
       classic_le(),
       [](TiffBytes& t) { t.truncate(t.ifd_offsets[0] + 30); },
       Stage::open,
       K::format,
       {"IFD 0 at offset", "entries extends past the end of the file"}},
      {"truncated-in-tiles",
       with(classic_be(compression::deflate), data_last),
       [](TiffBytes& t) { t.truncate(t.chunk_offsets[0][3] + 5); },
       Stage::open,
       K::format,
       {"IFD 0", "tile 3 at offset", "extends past the end of the file", "truncated"}},
      {"ifd-loops-to-itself",
       classic_le(),
       [](TiffBytes& t) { t.set_next_ifd(0, t.ifd_offsets[0]); },
       Stage::open,
       K::format,
       {"IFD 1 at offset", "already read", "loops"}},
      {"ifd-loops-to-earlier",
       with(bigtiff_be(), two_levels),
       [](TiffBytes& t) { t.set_next_ifd(1, t.ifd_offsets[0]); },
       Stage::open,
       K::format,
       {"IFD 2 at offset", "already read", "loops"}},
      {"next-ifd-past-end",
       with(classic_le(), two_levels),
       [](TiffBytes& t) { t.set_next_ifd(1, 0xFFFF'FFF0u); },
       Stage::open,
       K::format,
       {"IFD 2 at offset 4294967280", "past the end of the file"}},
      {"entry-count-huge",
       classic_be(),
       [](TiffBytes& t) { t.put_uint(t.ifd_offsets[0], 0xFFFF, 2); },
       Stage::open,
       K::format,
       {"IFD 0 at offset", "65535 entries", "allowed 1 to 4096"}},
      {"bigtiff-entry-count-2^63",
       bigtiff_le(),
       [](TiffBytes& t) { t.put_uint(t.ifd_offsets[0], std::uint64_t{1} << 63, 8); },
       Stage::open,
       K::format,
       {"IFD 0 at offset", "9223372036854775808 entries"}},
      {"entry-count-zero",
       classic_le(),
       [](TiffBytes& t) { t.put_uint(t.ifd_offsets[0], 0, 2); },
       Stage::open,
       K::format,
       {"IFD 0 at offset", "has 0 entries"}},
      {"subifd-past-end",
       with(classic_le(), [](BaseOptions& o) { o.sub_ifd = true; }),
       [](TiffBytes& t) { t.set_tag(0, sub_ifds, field::ifd, {123'456'789}); },
       Stage::open,
       K::format,
       {"IFD 0 / SubIFD 0 at offset 123456789", "past the end"}},
      {"subifd-into-garbage",
       with(bigtiff_le(), [](BaseOptions& o) { o.sub_ifd = true; }),
       [](TiffBytes& t) {
         t.put_bytes(t.chunk_offsets[0][0], garbage(64, 3));
         t.set_tag(0, sub_ifds, field::ifd8, {t.chunk_offsets[0][0]});
       },
       Stage::open,
       K::format,
       {"IFD 0 / SubIFD 0 at offset", "entries"}},
      // ---- tags and their values ----
      {"missing-image-width",
       classic_le(),
       [](TiffBytes& t) { t.remove_tag(0, image_width); },
       Stage::open,
       K::format,
       {"IFD 0", "required tag ImageWidth (256) is missing"}},
      {"width-zero",
       classic_be(),
       [](TiffBytes& t) { t.set_tag(0, image_width, field::long_, {0}); },
       Stage::open,
       K::format,
       {"IFD 0", "image size 0 x 36 is empty"}},
      {"dimensions-4G-by-4G",
       classic_le(),
       [](TiffBytes& t) {
         t.set_tag(0, image_width, field::long_, {0xFFFF'FFFFu});
         t.set_tag(0, image_length, field::long_, {0xFFFF'FFFFu});
       },
       Stage::open,
       K::format,
       {"IFD 0", "image size 4294967295 x 4294967295 is absurd"}},
      {"dimensions-2^32-by-2^32",
       bigtiff_be(),
       [](TiffBytes& t) {
         t.set_tag(0, image_width, field::long8, {std::uint64_t{1} << 32});
         t.set_tag(0, image_length, field::long8, {std::uint64_t{1} << 32});
       },
       Stage::open,
       K::format,
       {"IFD 0", "image size 4294967296 x 4294967296 is absurd"}},
      {"tile-width-zero",
       classic_le(),
       [](TiffBytes& t) { t.set_tag(0, tile_width, field::short_, {0}); },
       Stage::open,
       K::format,
       {"IFD 0", "tile size 0 x 16 is invalid"}},
      {"tile-width-2^31",
       bigtiff_le(),
       [](TiffBytes& t) { t.set_tag(0, tile_width, field::long_, {std::uint64_t{1} << 31}); },
       Stage::open,
       K::format,
       {"IFD 0", "tile size 2147483648 x 16 is invalid"}},
      {"decoded-tile-too-big",
       classic_le(),
       [](TiffBytes& t) {
         t.set_tag(0, tile_width, field::long_, {65536});
         t.set_tag(0, tile_length, field::long_, {65536});
       },
       Stage::open,
       K::format,
       {"IFD 0", "a decoded tile of 65536 x 65536 would need 12884901888 bytes"}},
      {"tile-count-absurd",
       classic_be(),
       [](TiffBytes& t) {
         t.set_tag(0, image_width, field::long_, {1u << 20});
         t.set_tag(0, image_length, field::long_, {1u << 20});
       },
       Stage::open,
       K::format,
       {"IFD 0", "image needs 4294967296 tiles, more than allowed"}},
      {"samples-per-pixel-zero",
       classic_le(),
       [](TiffBytes& t) { t.set_tag(0, samples_per_pixel, field::short_, {0}); },
       Stage::open,
       K::format,
       {"IFD 0", "SamplesPerPixel 0 is out of range"}},
      {"samples-per-pixel-1000",
       classic_be(),
       [](TiffBytes& t) { t.set_tag(0, samples_per_pixel, field::short_, {1000}); },
       Stage::open,
       K::format,
       {"IFD 0", "SamplesPerPixel 1000 is out of range"}},
      {"planar-config-3",
       classic_le(),
       [](TiffBytes& t) { t.set_tag(0, planar_config, field::short_, {3}); },
       Stage::open,
       K::format,
       {"IFD 0", "PlanarConfiguration 3 is invalid"}},
      {"rows-per-strip-zero",
       with(classic_le(), strips),
       [](TiffBytes& t) { t.set_tag(0, rows_per_strip, field::long_, {0}); },
       Stage::open,
       K::format,
       {"IFD 0", "RowsPerStrip is 0"}},
      {"tile-offsets-too-few",
       classic_le(),
       [](TiffBytes& t) {
         t.set_tag(0, tile_offsets, field::long_,
                   {t.chunk_offsets[0][0], t.chunk_offsets[0][1], t.chunk_offsets[0][2]});
       },
       Stage::open,
       K::format,
       {"IFD 0", "TileOffsets (324) has 3 entries but the image needs 9 tiles"}},
      {"strip-byte-counts-mismatch",
       with(classic_be(compression::lzw), strips),
       [](TiffBytes& t) {
         t.set_tag(0, strip_byte_counts, field::long_, {t.chunk_sizes[0][0], t.chunk_sizes[0][1]});
       },
       Stage::open,
       K::format,
       {"IFD 0", "StripByteCounts (279) has 2 entries but StripOffsets (273) has 5"}},
      {"tile-offsets-rational",
       classic_le(),
       [](TiffBytes& t) { t.set_tag(0, tile_offsets, field::rational, std::vector<std::uint64_t>(18, 1)); },
       Stage::open,
       K::format,
       {"IFD 0", "TileOffsets (324) has field type 5, expected an integer type"}},
      {"tile-offset-past-end",
       classic_le(),
       [](TiffBytes& t) {
         std::vector<std::uint64_t> offsets = t.chunk_offsets[0];
         offsets[2] = 1'000'000'000;
         t.set_tag(0, tile_offsets, field::long_, offsets);
       },
       Stage::open,
       K::format,
       {"IFD 0", "tile 2 at offset 1000000000", "past the end of the file"}},
      {"tile-byte-count-near-2^64",
       bigtiff_le(compression::deflate),
       [](TiffBytes& t) {
         std::vector<std::uint64_t> counts = t.chunk_sizes[0];
         counts[4] = ~std::uint64_t{0} - 15;  // offset + count wraps around
         t.set_tag(0, tile_byte_counts, field::long8, counts);
       },
       Stage::open,
       K::format,
       {"IFD 0", "tile 4 at offset", "18446744073709551600 bytes", "past the end"}},
      {"strip-offsets-values-past-end",
       with(classic_le(), strips),
       [](TiffBytes& t) {
         const std::uint64_t at = t.entry_position(0, strip_offsets);
         t.put_uint(at + 8, t.bytes.size() - 8, 4);  // 5 LONGs from 8 bytes before the end
       },
       Stage::open,
       K::format,
       {"IFD 0", "StripOffsets (273) values (20 bytes at offset", "extend past the end"}},
      {"tag-count-times-size-overflows",
       bigtiff_be(),
       [](TiffBytes& t) {
         t.set_tag_count(0, tile_offsets, std::uint64_t{1} << 62);  // x 8 bytes wraps to 0
         t.set_tag_count(0, tile_byte_counts, std::uint64_t{1} << 62);
       },
       Stage::open,
       K::format,
       {"IFD 0", "TileOffsets (324) has 4611686018427387904 values, more than allowed"}},
      {"description-count-4G",
       with(classic_le(), [](BaseOptions& o) { o.description = "a slide"; }),
       [](TiffBytes& t) { t.set_tag_count(0, image_description, 0xFFFF'FFF0u); },
       Stage::open,
       K::format,
       {"IFD 0", "ImageDescription (270) has 4294967280 values, more than allowed"}},
      {"description-count-past-end",
       with(classic_le(), [](BaseOptions& o) { o.description = "a slide"; }),
       [](TiffBytes& t) { t.set_tag_count(0, image_description, 100'000'000); },
       Stage::open,
       K::format,
       {"IFD 0", "ImageDescription (270) values (100000000 bytes at offset", "extend past the end"}},
      // ---- valid structure, unreadable pixels: open succeeds, the read names level, IFD and tile ----
      {"bits-per-sample-12",
       classic_le(),
       [](TiffBytes& t) {
         t.set_tag(0, bits_per_sample, field::short_, {12, 12, 12});
       },
       Stage::read,
       K::unsupported,
       {"IFD 0", "BitsPerSample 12 is not supported", "level 0"}},
      {"bits-per-sample-2^63",
       bigtiff_be(),
       [](TiffBytes& t) { t.set_tag(0, bits_per_sample, field::long8, {std::uint64_t{1} << 63}); },
       Stage::read,
       K::unsupported,
       {"IFD 0", "BitsPerSample 9223372036854775808 is not supported", "level 0"}},
      // 1-bit images (rows of 40 pixels: 5 bytes; 8 rows a strip: 40 bytes) and sample formats
      {"bilevel-short-strip",
       with(classic_be(), [](BaseOptions& o) {
         o.samples = 1;
         o.tiled = false;
         o.tile = 8;
       }),
       [](TiffBytes& t) {
         t.set_tag(0, bits_per_sample, field::short_, {1});
         std::vector<std::uint64_t> counts = t.chunk_sizes[0];
         counts[2] = 3;
         t.set_tag(0, strip_byte_counts, field::long_, counts);
       },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), strip 2 (column 0, row 2) at offset", "uncompressed data has 3 bytes, expected 40"}},
      {"bilevel-floating-point",
       with(classic_le(), [](BaseOptions& o) {
         o.samples = 1;
         o.extra_tags.push_back({339, field::short_, {3}, {}});
       }),
       [](TiffBytes& t) { t.set_tag(0, bits_per_sample, field::short_, {1}); },
       Stage::read,
       K::unsupported,
       {"IFD 0", "1-bit floating-point samples are not supported (16- and 32-bit ones are)", "level 0"}},
      {"float-8-bit",
       with(bigtiff_be(), [](BaseOptions& o) { o.extra_tags.push_back({339, field::short_, {3, 3, 3}, {}}); }),
       [](TiffBytes&) {},
       Stage::read,
       K::unsupported,
       {"IFD 0", "8-bit floating-point samples are not supported (16- and 32-bit ones are)", "level 0"}},
      {"bilevel-rgb",
       classic_le(),
       [](TiffBytes& t) { t.set_tag(0, bits_per_sample, field::short_, {1, 1, 1}); },
       Stage::read,
       K::unsupported,
       {"IFD 0", "1-bit images with 3 samples per pixel are not supported (one sample is)", "level 0"}},
      {"compression-jpegxl",
       classic_le(),
       [](TiffBytes& t) { t.set_tag(0, compression_tag, field::short_, {50002}); },
       Stage::read,
       K::unsupported,
       {"IFD 0", "JPEG XL", "(50002) is not supported", "level 0"}},
      {"corrupt-deflate-tile",
       classic_le(compression::deflate),
       [](TiffBytes& t) { t.put_bytes(t.chunk_offsets[0][1], garbage(t.chunk_sizes[0][1], 1)); },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile 1 (column 1, row 0) at offset", "deflate"}},
      {"truncated-deflate-tile",
       bigtiff_be(compression::adobe_deflate),
       [](TiffBytes& t) {
         std::vector<std::uint64_t> counts = t.chunk_sizes[0];
         counts[0] /= 2;
         t.set_tag(0, tile_byte_counts, field::long8, counts);
       },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile 0 (column 0, row 0) at offset", "deflate stream truncated"}},
      {"corrupt-lzw-tile",
       classic_be(compression::lzw),
       [](TiffBytes& t) { t.put_bytes(t.chunk_offsets[0][4], garbage(t.chunk_sizes[0][4], 2)); },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile 4 (column 1, row 1) at offset", "LZW"}},
      {"corrupt-lzw-strip",
       with(bigtiff_le(compression::lzw), strips),
       [](TiffBytes& t) { t.put_bytes(t.chunk_offsets[0][2], garbage(t.chunk_sizes[0][2], 4)); },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), strip 2 (column 0, row 2) at offset", "LZW"}},
      {"short-uncompressed-tile",
       classic_le(),
       [](TiffBytes& t) {
         std::vector<std::uint64_t> counts = t.chunk_sizes[0];
         counts[8] = 100;
         t.set_tag(0, tile_byte_counts, field::long_, counts);
       },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile 8 (column 2, row 2) at offset", "100 bytes"}},
      {"truncated-jpeg-tile",
       classic_le(compression::jpeg),
       [](TiffBytes& t) {
         std::vector<std::uint64_t> counts = t.chunk_sizes[0];
         counts[0] = counts[0] * 2 / 3;
         t.set_tag(0, tile_byte_counts, field::long_, counts);
       },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile 0 (column 0, row 0) at offset"}},
      {"corrupt-jpeg-tile",
       bigtiff_be(compression::jpeg),
       [](TiffBytes& t) { t.put_bytes(t.chunk_offsets[0][3], garbage(t.chunk_sizes[0][3], 5)); },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile 3 (column 0, row 1) at offset"}},
      // Bad tables fail every tile; tiles decode in parallel, so any of them may be the one reported.
      {"corrupt-jpeg-tables",
       bigtiff_le(compression::jpeg),
       [](TiffBytes& t) { t.set_tag_raw(0, jpeg_tables, field::undefined, garbage(40, 6)); },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile ", "at offset", "JPEG: JPEGTables: Not a JPEG file"}},
      {"jpeg-without-tables",
       classic_be(compression::jpeg),
       [](TiffBytes& t) { t.remove_tag(0, jpeg_tables); },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile ", "at offset", "JPEG: Quantization table 0x00 was not defined"}},
      // ---- NDPI high offset bits (the 4 bytes an entry after each IFD's 8-byte next offset) ----
      {"ndpi-strip-offset-high-bits-past-end",
       ndpi(),
       [](TiffBytes& t) { t.set_ndpi_high_bits(0, strip_offsets, 1); },
       Stage::open,
       K::format,
       {"IFD 0: strip 0 at offset 42949673", "extends past the end of the file", "StripOffsets (273)"}},
      {"ndpi-strip-byte-count-high-bits-past-end",
       ndpi(),
       [](TiffBytes& t) { t.set_ndpi_high_bits(0, strip_byte_counts, 2); },
       Stage::open,
       K::format,
       {"IFD 0: strip 0 at offset", "with 85899", "extends past the end of the file", "StripByteCounts (279)"}},
      {"ndpi-tile-offsets-array-high-bits-past-end",
       ndpi(1, true),
       [](TiffBytes& t) { t.set_ndpi_high_bits(0, tile_offsets, 3); },
       Stage::open,
       K::format,
       {"IFD 0: TileOffsets (324) values (36 bytes at offset 128849", "extend past the end of the file"}},
      {"ndpi-next-ifd-high-bits-past-end",
       ndpi(2),
       [](TiffBytes& t) { t.set_next_ifd(0, t.ifd_offsets[1] + (std::uint64_t{1} << 32)); },
       Stage::open,
       K::format,
       {"IFD 1 at offset 42949", "lies past the end of the file"}},
      {"ndpi-high-bits-on-inline-short",
       ndpi(),
       [](TiffBytes& t) { t.set_ndpi_high_bits(0, compression_tag, 1); },
       Stage::open,
       K::format,
       {"IFD 0: Compression (259) (field type 3, inline) has NDPI high offset bits 1",
        "only a LONG or SLONG value"}},
      // ---- NDPI restart intervals (McuStarts: each one's start in the strip; the first is the header's end) ----
      {"ndpi-mcu-starts-out-of-order",
       ndpi_intervals(),
       [](TiffBytes& t) {
         t.set_tag(0, mcu_starts, field::long_,
                   {0, 1000, 1500, 1400, 1600, 1700, 1800, 1900, 2000, 2100, 2200, 2300});
       },
       Stage::open,
       K::format,
       {"IFD 0: NDPI McuStarts (65426) entry 3 (1400) is not after entry 2 (1500)", "out of order"}},
      {"ndpi-mcu-starts-past-the-strip",
       ndpi_intervals(),
       [](TiffBytes& t) {
         std::vector<std::uint64_t> starts(12);
         for (std::size_t i = 0; i < starts.size(); ++i) starts[i] = 0x7fff0000 + i;
         t.set_tag(0, mcu_starts, field::long_, starts);
       },
       Stage::open,
       K::format,
       {"IFD 0: NDPI McuStarts (65426) entry 1 (2147418113) lies past the JPEG strip's"}},
      {"ndpi-mcu-starts-count-not-the-grid",
       ndpi_intervals(),
       [](TiffBytes& t) { t.set_tag_count(0, mcu_starts, 11); },
       Stage::open,
       K::format,
       {"IFD 0: NDPI McuStarts (65426) has 11 entries but the level has 4 x 3 = 12 restart intervals of 16 x "
        "8 pixels"}},
      {"ndpi-restart-markers-missing",
       ndpi_intervals(),
       [](TiffBytes& t) {
         t.remove_tag(0, mcu_starts);  // the strip is scanned for restart markers: overwrite them all
         const std::uint64_t at = t.chunk_offsets[0][0], n = t.chunk_sizes[0][0];
         for (std::uint64_t i = at; i + 1 < at + n; ++i) {
           if (t.bytes[i] == std::byte{0xFF} && t.bytes[i + 1] >= std::byte{0xD0} &&
               t.bytes[i + 1] <= std::byte{0xD7})
             t.bytes[i + 1] = std::byte{0x00};
         }
       },
       Stage::open,
       K::format,
       {"IFD 0: the JPEG strip (StripOffsets (273)) holds 0 restart markers, the level has 4 x 3 = 12 "
        "restart "
        "intervals of 16 x 8 pixels (it has no NDPI McuStarts (65426))"}},
      {"ndpi-interval-without-its-marker",
       ndpi_intervals(),
       [](TiffBytes& t) {  // the restart marker after interval 4 made a stuffed 0xFF: the interval runs on
         const std::uint64_t at = t.chunk_offsets[0][0], n = t.chunk_sizes[0][0];
         int seen = 0;
         for (std::uint64_t i = at; i + 1 < at + n; ++i) {
           if (t.bytes[i] == std::byte{0xFF} && t.bytes[i + 1] >= std::byte{0xD0} &&
               t.bytes[i + 1] <= std::byte{0xD7} && seen++ == 4) {
             t.bytes[i + 1] = std::byte{0x00};
             break;
           }
         }
       },
       Stage::read,
       K::codec,
       {"tile 4 (column 0, row 1)", "do not end with a restart marker or EOI"}},
      {"ndpi-ifd-high-bits-truncated",
       ndpi(2),
       [](TiffBytes& t) { t.truncate(t.next_pointer_position(1) + 10); },
       Stage::open,
       K::format,
       {"IFD 1 at offset", "and their NDPI high offset bits extends past the end of the file"}},
  };
#if TILESTREAM_WITH_OPENJPEG
  const std::vector<MalformedCase> jpeg2000 = {
      {"truncated-jpeg2000-tile",
       classic_le(compression::jpeg2000),
       [](TiffBytes& t) {
         std::vector<std::uint64_t> counts = t.chunk_sizes[0];
         counts[0] = counts[0] * 2 / 3;
         t.set_tag(0, tile_byte_counts, field::long_, counts);
       },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile 0 (column 0, row 0) at offset", "J2K codestream of",
        "is corrupt or truncated"}},
      {"corrupt-aperio-jpeg2000-tile",
       bigtiff_be(compression::jpeg2000_ycbcr),
       [](TiffBytes& t) { t.put_bytes(t.chunk_offsets[0][2], garbage(t.chunk_sizes[0][2], 7)); },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile 2 (column 2, row 0) at offset", "is neither a J2K codestream"}},
      {"jpeg2000-tile-offset-shifted",
       classic_be(compression::jpeg2000),
       [](TiffBytes& t) {
         std::vector<std::uint64_t> offsets = t.chunk_offsets[0];
         offsets[4] += 1;
         t.set_tag(0, tile_offsets, field::long_, offsets);
       },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile 4 (column 1, row 1) at offset", "is neither a J2K codestream"}},
      {"jpeg2000-tile-of-another-size",
       with(bigtiff_le(compression::jpeg2000), [](BaseOptions& o) { o.samples = 1; }),
       [](TiffBytes& t) { t.set_tag(0, tile_width, field::short_, {32}); },
       Stage::read,
       K::codec,
       {"level 0 (IFD 0), tile ", "at offset", "J2K codestream of 16 x 16 pixels", "in a tile of 32 x 16"}},
  };
  all.insert(all.end(), jpeg2000.begin(), jpeg2000.end());
#endif
  return all;
}

// gtest prints the case by its name, not its bytes.
void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.name; }

class MalformedTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedTest, FailsWithAClearError) {
  const MalformedCase& c = GetParam();
  TiffBytes tiff = build_base(c.base).tiff;
  c.mutate(tiff);
  const std::string file = "broken-" + c.name + ".tif";
  auto source = std::make_shared<io::MemorySource>(tiff.bytes, file);

  std::optional<ErrorKind> kind;
  std::string message;
  Stage stage = Stage::open;
  try {
    const slide::Slide slide = slide::Slide::open(source);
    stage = Stage::read;
    slide.read_level(0, {.threads = 2});
  } catch (const Error& e) {
    kind = e.kind();
    message = e.what();
  }
  ASSERT_TRUE(kind.has_value()) << file << ": no error";
  EXPECT_EQ(stage, c.stage) << message;
  EXPECT_EQ(to_string(*kind), std::string(to_string(c.kind))) << message;
  EXPECT_NE(message.find(file), std::string::npos) << "message does not name the file: " << message;
  RecordProperty("message", message);
  for (const std::string& part : c.expected)
    EXPECT_NE(message.find(part), std::string::npos) << "expected \"" << part << "\" in: " << message;
}

INSTANTIATE_TEST_SUITE_P(Corpus, MalformedTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<MalformedCase>& info) {
                           std::string name;
                           for (const char ch : info.param.name)
                             name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return name;
                         });

// The unbroken base files read back exactly, so that every failure above is the mutation's doing.
TEST(MalformedBase, ValidFilesReadBack) {
  const std::vector<BaseOptions> bases = {classic_le(),
                                          classic_be(compression::deflate),
                                          bigtiff_le(compression::lzw),
                                          bigtiff_be(compression::adobe_deflate),
                                          with(classic_le(compression::lzw),
                                               [](BaseOptions& o) {
                                                 o.tiled = false;
                                                 o.tile = 8;
                                               }),
                                          with(bigtiff_be(),
                                               [](BaseOptions& o) {
                                                 o.dtype = DType::uint16;
                                                 o.samples = 1;
                                                 o.data_after_ifds = true;
                                               }),
                                          with(classic_le(compression::deflate), [](BaseOptions& o) {
                                            o.levels = 2;
                                            o.sub_ifd = true;
                                          }),
                                          ndpi(2),
                                          ndpi(2, true)};
  // NDPI restart intervals (JPEG: close, as below): the index has them as OpenSlide does, 16 x 8 tiles
  // over one strip, and the copies at 1/2 and 1/4 of the level (its 8-row tiles; 24 rows at 1/8 are 3).
  {
    BaseFile base = build_base(ndpi_intervals());
    const slide::Slide slide =
        slide::Slide::open(std::make_shared<io::MemorySource>(base.tiff.bytes, "base.ndpi"));
    ASSERT_EQ(slide.level_count(), 4u);
    EXPECT_EQ(slide.level(3).image.width, 8u);
    EXPECT_EQ(slide.level(3).image.jpeg_scale_denom, 8u);
    const tiff::ImageInfo& level0 = slide.level(0).image;
    EXPECT_TRUE(level0.tiled);
    EXPECT_EQ(level0.tile_width, 16u);
    EXPECT_EQ(level0.tile_height, 8u);
    EXPECT_EQ(level0.tile_offsets.size(), 12u);
    const HostImage image = slide.read_level(0);
    ASSERT_EQ(image.size_bytes(), base.level0_pixels.size());
    double error = 0;
    for (std::size_t i = 0; i < base.level0_pixels.size(); ++i)
      error += std::abs(static_cast<int>(image.bytes()[i]) - static_cast<int>(base.level0_pixels[i]));
    EXPECT_LT(error / static_cast<double>(base.level0_pixels.size()), 12.0);
  }
  for (const BaseOptions& o : bases) {
    BaseFile base = build_base(o);
    const slide::Slide slide =
        slide::Slide::open(std::make_shared<io::MemorySource>(base.tiff.bytes, "base.tif"));
    const HostImage image = slide.read_level(0);
    ASSERT_EQ(image.width(), o.width);
    ASSERT_EQ(image.height(), o.height);
    ASSERT_EQ(image.size_bytes(), base.level0_pixels.size());
    EXPECT_TRUE(std::equal(base.level0_pixels.begin(), base.level0_pixels.end(), image.bytes().begin()))
        << "compression " << o.compression << (o.big_tiff ? " BigTIFF" : " TIFF")
        << (o.big_endian ? " BE" : " LE");
  }
  // JPEG is lossy (and 4:2:0 subsampled over a pattern with sharp wraps): close, not equal; a
  // wrong colour space or tile placement gives errors of 40 and more.
  BaseFile jpeg = build_base(classic_le(compression::jpeg));
  const slide::Slide slide =
      slide::Slide::open(std::make_shared<io::MemorySource>(jpeg.tiff.bytes, "base.tif"));
  const HostImage image = slide.read_level(0);
  ASSERT_EQ(image.size_bytes(), jpeg.level0_pixels.size());
  double error = 0;
  for (std::size_t i = 0; i < jpeg.level0_pixels.size(); ++i)
    error += std::abs(static_cast<int>(image.bytes()[i]) - static_cast<int>(jpeg.level0_pixels[i]));
  EXPECT_LT(error / static_cast<double>(jpeg.level0_pixels.size()), 12.0);
}

// A file of `size` bytes that holds `head` at offset 0 and `tail` at `tail_at`, zeros between: an
// NDPI above 4 GiB without 4 GiB of memory.
class SparseSource final : public io::ByteSource {
 public:
  SparseSource(std::vector<std::byte> head, std::vector<std::byte> tail, std::uint64_t tail_at, std::string name)
      : head_(std::move(head)), tail_(std::move(tail)), tail_at_(tail_at), name_(std::move(name)) {}
  std::uint64_t size() const override { return tail_at_ + tail_.size(); }
  const std::string& name() const override { return name_; }
  void read_exact(std::uint64_t offset, std::span<std::byte> dst) const override {
    if (offset > size() || dst.size() > size() - offset) throw IoError("read past the end of " + name_);
    for (std::size_t i = 0; i < dst.size(); ++i) {
      const std::uint64_t at = offset + i;
      dst[i] = at < head_.size()                              ? head_[at]
               : at >= tail_at_ && at - tail_at_ < tail_.size() ? tail_[at - tail_at_]
                                                              : std::byte{0};
    }
  }

 private:
  std::vector<std::byte> head_, tail_;
  std::uint64_t tail_at_;
  std::string name_;
};

// Level 0's strip moved 5 GiB further, its StripOffsets given the high bits that say so: the level
// reads back; with the high bits left 0 the reader looks where the strip no longer is.
TEST(MalformedBase, NdpiStripAboveFourGiBReadsBack) {
  BaseFile base = build_base(ndpi(2));
  const std::uint64_t low = base.tiff.chunk_offsets[0][0];
  const std::uint64_t size = base.tiff.chunk_sizes[0][0];
  const std::uint64_t moved = low + (std::uint64_t{5} << 32);
  std::vector<std::byte> strip(base.tiff.bytes.begin() + static_cast<std::ptrdiff_t>(low),
                               base.tiff.bytes.begin() + static_cast<std::ptrdiff_t>(low + size));
  std::fill_n(base.tiff.bytes.begin() + static_cast<std::ptrdiff_t>(low), size, std::byte{0});
  for (const std::uint32_t high : {5u, 0u}) {
    base.tiff.set_ndpi_high_bits(0, strip_offsets, high);
    auto source = std::make_shared<SparseSource>(base.tiff.bytes, strip, moved, "above-4-gib.ndpi");
    const slide::Slide slide = slide::Slide::open(source);
    ASSERT_EQ(slide.index().vendor, "hamamatsu");
    ASSERT_EQ(slide.index().levels.size(), 2u);
    EXPECT_EQ(slide.index().levels[0].image.tile_offsets[0], high == 5 ? moved : low);
    const HostImage image = slide.read_level(0);
    ASSERT_EQ(image.size_bytes(), base.level0_pixels.size());
    EXPECT_EQ(std::equal(base.level0_pixels.begin(), base.level0_pixels.end(), image.bytes().begin()), high == 5)
        << "high bits " << high;
  }
}

#if TILESTREAM_WITH_OPENJPEG
// The JPEG 2000 bases of the corpus read back exactly (lossless codestreams; Aperio YCbCr is not, its
// chroma being subsampled).
TEST(MalformedBase, Jpeg2000FilesReadBack) {
  for (const BaseOptions& o :
       {classic_le(compression::jpeg2000), classic_be(compression::jpeg2000),
        with(bigtiff_le(compression::jpeg2000), [](BaseOptions& b) { b.samples = 1; })}) {
    BaseFile base = build_base(o);
    const slide::Slide slide =
        slide::Slide::open(std::make_shared<io::MemorySource>(base.tiff.bytes, "base.tif"));
    const HostImage image = slide.read_level(0, {.threads = 2});
    ASSERT_EQ(image.size_bytes(), base.level0_pixels.size());
    EXPECT_TRUE(std::equal(base.level0_pixels.begin(), base.level0_pixels.end(), image.bytes().begin()));
  }
}
#endif

// Regressions found by fuzz/fuzz_slide: files that must open and read, not crash.
TEST(MalformedRegression, EmptyInlineDescription) {
  // An ImageDescription of count 0 (stored inline): memcpy from a null vector (UBSan).
  BaseFile base = build_base(with(bigtiff_be(), [](BaseOptions& o) { o.description = "a slide"; }));
  base.tiff.set_tag_count(0, image_description, 0);
  const slide::Slide slide =
      slide::Slide::open(std::make_shared<io::MemorySource>(base.tiff.bytes, "regression.tif"));
  EXPECT_EQ(slide.properties().at("tiff.ImageDescription"), "");
  EXPECT_EQ(slide.read_level(0).size_bytes(), base.level0_pixels.size());
}

}  // namespace
}  // namespace tilestream::test
