// Decoding and encoding of single TIFF tiles or strips, keyed by the TIFF Compression tag.
//
// A decoder turns the stored bytes of one tile (or strip) into its pixels: `rows` x `width` x
// `samples`, interleaved, native byte order, with the predictor undone. It knows nothing of files:
// callers add the file / IFD / tile context to any error it throws (rethrow_with_context).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tilestream/core/dtype.hpp"

namespace tilestream::codec {

// TIFF Compression tag values we name (others are reported by number).
namespace compression {
inline constexpr std::uint16_t none = 1;
inline constexpr std::uint16_t ccitt_rle = 2;
inline constexpr std::uint16_t ccitt_t4 = 3;
inline constexpr std::uint16_t ccitt_t6 = 4;
inline constexpr std::uint16_t lzw = 5;
inline constexpr std::uint16_t ojpeg = 6;
inline constexpr std::uint16_t jpeg = 7;
inline constexpr std::uint16_t adobe_deflate = 8;
inline constexpr std::uint16_t packbits = 32773;
inline constexpr std::uint16_t deflate = 32946;
inline constexpr std::uint16_t jpeg2000_ycbcr = 33003;
inline constexpr std::uint16_t jpeg2000_lossy = 33004;
inline constexpr std::uint16_t jpeg2000_rgb = 33005;
inline constexpr std::uint16_t jpeg2000 = 34712;
inline constexpr std::uint16_t lerc = 34887;
inline constexpr std::uint16_t lzma = 34925;
inline constexpr std::uint16_t zstd = 50000;
inline constexpr std::uint16_t webp = 50001;
inline constexpr std::uint16_t jpegxl = 50002;
}  // namespace compression

// TIFF Photometric values that matter to decoding.
namespace photometric {
inline constexpr std::uint16_t min_is_white = 0;
inline constexpr std::uint16_t min_is_black = 1;
inline constexpr std::uint16_t rgb = 2;
inline constexpr std::uint16_t palette = 3;
inline constexpr std::uint16_t separated = 5;
inline constexpr std::uint16_t ycbcr = 6;
}  // namespace photometric

// What a decoder needs to know about one stored tile or strip.
struct TileLayout {
  std::uint32_t width = 0;    // pixels per row as stored (the full tile width, or image width for strips)
  std::uint32_t rows = 0;     // rows as stored (full tile height; a strip's actual row count)
  std::uint32_t samples = 1;  // samples per pixel in this chunk (1 for each plane of planar images)
  DType dtype = DType::uint8;
  std::uint16_t predictor = 1;          // 1 none, 2 horizontal differencing
  std::uint16_t photometric = photometric::min_is_black;
  bool big_endian = false;              // byte order of the file, for 16- and 32-bit samples
  std::span<const std::byte> jpeg_tables;  // TIFF JPEGTables tag contents, may be empty
  // 1-bit (bilevel) images, one sample, dtype uint8: the byte codecs' stream holds rows of 8 pixels
  // a byte, the first pixel in the most significant bit, each row padded to a whole byte. decode_tile
  // unpacks them into one uint8 a pixel, 0 for a clear bit and bilevel_max (1 or 255) for a set one;
  // encode_tile packs (any non-zero sample sets its bit). bilevel_lsb_first (FillOrder 2): the stored
  // bytes, compressed or not, hold their bits least significant first and are reversed before
  // decoding (after encoding), as libtiff and tifffile do.
  bool bilevel = false;
  bool bilevel_lsb_first = false;
  std::uint8_t bilevel_max = 1;
  // JPEG tiles that are one restart interval of a larger stream (NDPI): the stream's header (SOI through
  // the scan header, its frame size set to the tile's), read before the tile's bytes, which are the
  // interval's entropy-coded data ending with its restart marker (the last one with EOI). Empty otherwise.
  std::span<const std::byte> jpeg_header;
  // JPEG decoded at 1/jpeg_scale_denom of its size by libjpeg's DCT scaling (1, 2, 4 or 8); width and
  // rows are then the scaled tile's.
  std::uint32_t jpeg_scale_denom = 1;

  std::size_t decoded_bytes() const {
    return static_cast<std::size_t>(width) * rows * samples * bytes_per_sample(dtype);
  }
  // The bytes the compression's stream decodes to: decoded_bytes(), or the packed rows of a 1-bit tile.
  std::size_t stored_bytes() const {
    return bilevel ? static_cast<std::size_t>((width + 7) / 8) * rows : decoded_bytes();
  }
};

// Human-readable name of a compression id: "JPEG", "JPEG 2000 (Aperio YCbCr)", "unknown" (callers
// add the number where they need it). The pointer is to a static string.
const char* compression_name(std::uint16_t compression);

// True when decode_tile handles this compression.
bool is_supported(std::uint16_t compression);
// Why this build cannot decode a compression it knows ("this build has no libwebp ..."), or "" where
// the build is not the reason (supported, or not implemented anywhere).
const char* not_built_reason(std::uint16_t compression);
// The version of the OpenJPEG library JPEG 2000 tiles are decoded with, as it reports it ("2.5.0"); ""
// in a build without OpenJPEG.
std::string openjpeg_version();
// Whether that OpenJPEG decodes High-Throughput JPEG 2000 (Part 15) codestreams correctly: 2.5.4 and
// later. Debian 12's 2.5.0 returned some HTJ2K frames as flat grey without an error (measured against
// OpenJPEG 2.5.4 and OpenJPH on the frames tests/python/dicom_writer.py writes), so older ones are refused.
bool decodes_htj2k();

// Decodes `src` into `dst`, which must be exactly layout.decoded_bytes() long.
// Throws CodecError on corrupt data, UnsupportedError on a compression or layout we do not handle.
void decode_tile(std::uint16_t compression, std::span<const std::byte> src, const TileLayout& layout,
                 std::span<std::byte> dst);

// Decodes like decode_tile, but writes row r of the tile at dst + r * row_stride, so that a tile
// lying inside a larger image decodes straight into it. Image codecs (JPEG) write in place; the
// byte-stream codecs decode into a per-thread buffer and copy the rows.
void decode_tile_into(std::uint16_t compression, std::span<const std::byte> src, const TileLayout& layout,
                      std::byte* dst, std::size_t row_stride);

// The part of a tile a caller needs, in the tile's pixels: columns [left, right), rows [top, bottom).
struct TileWindow {
  std::uint32_t left = 0, top = 0, right = 0, bottom = 0;
};

// Decodes like decode_tile_into, where only `window` of the tile is needed: pixels outside it may be
// left as they were. JPEG decodes only the rows and columns of 8x8 blocks around the window (a
// random patch needs about a quarter of each tile it touches), the window's pixels equal to a full
// decode's; other codecs decode the whole tile.
void decode_tile_window_into(std::uint16_t compression, std::span<const std::byte> src, const TileLayout& layout,
                             const TileWindow& window, std::byte* dst, std::size_t row_stride);

// Encoding options for writing tiles (synth and tests).
struct EncodeOptions {
  int jpeg_quality = 90;
  int deflate_level = 6;
  bool jpeg_ycbcr = true;  // 3-sample JPEG stored as YCbCr (photometric 6, subsampled) or as RGB
  // Luma sampling factors {horizontal, vertical} of YCbCr JPEG, chroma being 1x1: {2, 2} is 4:2:0,
  // {2, 1} 4:2:2, {1, 1} 4:4:4 (TIFF's YCbCrSubSampling says the same).
  std::array<std::uint8_t, 2> jpeg_ycbcr_sampling{2, 2};
  bool jpeg_progressive = false;  // progressive scans (tests of decoders that fall back on them)
  int zstd_level = 9;              // libtiff's default
  int lzma_preset = 6;             // libtiff's default
  int webp_quality = -1;           // negative: lossless; else lossy at 0 to 100
  int jpeg2000_quality = -1;       // negative: lossless (5/3); else lossy, 1 to 100 (PSNR 25 + q/4 dB)
};

// Encodes pixels laid out as `layout` describes (predictor applied here when layout.predictor == 2,
// 16-bit samples written in layout.big_endian order when uncompressed or before compression).
// For JPEG the result is an abbreviated stream whose tables are those of make_jpeg_tables().
std::vector<std::byte> encode_tile(std::uint16_t compression, std::span<const std::byte> pixels,
                                   const TileLayout& layout, const EncodeOptions& options);

// The JPEGTables tag contents (SOI, DQT, DHT, EOI) that match encode_tile's JPEG streams for this
// sample count and options.
std::vector<std::byte> make_jpeg_tables(std::uint32_t samples, const EncodeOptions& options);

}  // namespace tilestream::codec
