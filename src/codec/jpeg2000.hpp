// JPEG 2000 tiles through OpenJPEG: TIFF compression 34712 (libtiff's and tifffile's JPEG 2000),
// 33004 (Leica Aperio's lossy JPEG 2000) and 33005 (Aperio RGB), whose codestream components are the
// TIFF's samples, and 33003 (Aperio YCbCr), whose three components are Y, Cb and Cr, chroma often
// subsampled, turned into RGB here exactly as OpenSlide 4 does.
//
// A tile holds a raw J2K codestream (what TIFF writers store) or a JP2 file; both are recognised by
// their signatures. What a decoder accepts, and what it refuses with a CodecError naming it:
//   - the image must be the tile: offset 0, width x rows as the TIFF says (edge tiles full size, a
//     last strip as many rows as it has);
//   - one component per sample (three for Aperio YCbCr), of at most the sample's bits (signed ones land
//     as two's complement in the sample's width);
//   - a component subsampled by dx x dy (which must divide the tile's size) is widened as OpenSlide
//     does: pixel (x, y) takes its sample (x / dx, y / dy), nearest, no interpolation;
//   - truncated or corrupt codestreams fail (OpenJPEG's strict mode): no partial tiles.
// OpenJPEG's errors and warnings go into the message, never to stderr.
//
// Threads: one OpenJPEG thread per tile unless TILESTREAM_J2K_THREADS says otherwise
// (Settings::jpeg2000_threads). The readers already decode many tiles at once, one per pool thread;
// OpenJPEG's own threads would only compete with them (its thread pool is created per decode, too).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// opj_version(): the OpenJPEG library this process decodes with.
const char* openjpeg_library_version();

// Decodes the components as the TIFF's samples (33004, 33005, 34712), into layout.width x layout.rows
// x layout.samples of layout.dtype.
void jpeg2000_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst);
void jpeg2000_decode_rows(std::span<const std::byte> src, const TileLayout& layout, std::byte* dst,
                          std::size_t row_stride);
// Decodes at least `window` of the tile (decode_tile_window_into): OpenJPEG decodes only the code
// blocks the window needs, its samples equal to a whole decode's.
void jpeg2000_decode_window(std::span<const std::byte> src, const TileLayout& layout,
                            const TileWindow& window, std::byte* dst, std::size_t row_stride);
// Decodes Aperio YCbCr (33003): three 8-bit components, to RGB by aperio_ycbcr_to_rgb.
void jpeg2000_ycbcr_decode(std::span<const std::byte> src, const TileLayout& layout,
                           std::span<std::byte> dst);
void jpeg2000_ycbcr_decode_rows(std::span<const std::byte> src, const TileLayout& layout, std::byte* dst,
                                std::size_t row_stride);
void jpeg2000_ycbcr_decode_window(std::span<const std::byte> src, const TileLayout& layout,
                                  const TileWindow& window, std::byte* dst, std::size_t row_stride);

// A J2K codestream of the tile: its samples as components (3 samples with the reversible or
// irreversible colour transform), lossless (reversible 5/3 wavelet) when options.jpeg2000_quality is
// negative, else lossy (irreversible 9/7) at a target PSNR of 25 + quality / 4 dB.
std::vector<std::byte> jpeg2000_encode(std::span<const std::byte> pixels, const TileLayout& layout,
                                       const EncodeOptions& options);
// An Aperio YCbCr (33003) codestream of 8-bit RGB pixels: Y, Cb, Cr by the JFIF equations (rounded),
// no colour transform in the codestream, chroma subsampled 2 x 1 as Aperio writes it (the mean of
// each pair of pixels; the tile width must be even).
std::vector<std::byte> jpeg2000_ycbcr_encode(std::span<const std::byte> pixels, const TileLayout& layout,
                                             const EncodeOptions& options);

// ---- Aperio YCbCr to RGB, exactly as OpenSlide 4 computes it (openslide-decode-jp2k.c with the
// tables of make-tables.c), for the CPU decoder and its GPU twin. With round() rounding half away
// from zero, in double precision, one operation at a time (no fused multiply-add):
//   R = clamp(Y + round(1.402 * (Cr - 128)), 0, 255)
//   G = clamp(Y + ((G_Cb + G_Cr) >> 16), 0, 255), with
//         G_Cb = round(65536 * (0.5 - 0.34414 * (Cb - 128))), G_Cr = round(65536 * -0.71414 * (Cr - 128))
//         and >> an arithmetic shift of their int32 sum (floor division by 65536)
//   B = clamp(Y + round(1.772 * (Cb - 128)), 0, 255)
// The four 256-entry tables below hold the rounded terms; a kernel can copy them to constant memory
// rather than recompute them in floating point.
struct AperioYcbcrTables {
  std::array<std::int16_t, 256> r_cr{};  // round(1.402 * (i - 128))
  std::array<std::int32_t, 256> g_cb{};  // round(65536 * (0.5 - 0.34414 * (i - 128)))
  std::array<std::int32_t, 256> g_cr{};  // round(65536 * -0.71414 * (i - 128))
  std::array<std::int16_t, 256> b_cb{};  // round(1.772 * (i - 128))
};

namespace detail {
// C's round() (half away from zero) as a constant expression, for the magnitudes of these tables.
constexpr long round_half_away(double v) {
  return v >= 0 ? static_cast<long>(v + 0.5) : -static_cast<long>(-v + 0.5);
}

constexpr AperioYcbcrTables make_aperio_ycbcr_tables() {
  AperioYcbcrTables t;
  for (int i = 0; i < 256; ++i) {
    t.r_cr[i] = static_cast<std::int16_t>(round_half_away(1.402 * (i - 128)));
    t.g_cb[i] = static_cast<std::int32_t>(round_half_away((1 << 16) * (0.5 - 0.34414 * (i - 128))));
    t.g_cr[i] = static_cast<std::int32_t>(round_half_away((1 << 16) * -0.71414 * (i - 128)));
    t.b_cb[i] = static_cast<std::int16_t>(round_half_away(1.772 * (i - 128)));
  }
  return t;
}
}  // namespace detail

inline constexpr AperioYcbcrTables aperio_ycbcr_tables = detail::make_aperio_ycbcr_tables();

// One Aperio YCbCr pixel to RGB: rgb[0..2] = R, G, B.
constexpr void aperio_ycbcr_to_rgb(std::uint8_t y, std::uint8_t cb, std::uint8_t cr, std::uint8_t* rgb) {
  const AperioYcbcrTables& t = aperio_ycbcr_tables;
  const int r = y + t.r_cr[cr];
  const int g = y + ((t.g_cb[cb] + t.g_cr[cr]) >> 16);
  const int b = y + t.b_cb[cb];
  rgb[0] = static_cast<std::uint8_t>(r < 0 ? 0 : r > 255 ? 255 : r);
  rgb[1] = static_cast<std::uint8_t>(g < 0 ? 0 : g > 255 ? 255 : g);
  rgb[2] = static_cast<std::uint8_t>(b < 0 ? 0 : b > 255 ? 255 : b);
}

}  // namespace tilestream::codec
