// WebP tiles (TIFF compression 50001, libtiff's WEBP codec): each tile one WebP image of 8-bit RGB or
// RGBA samples, lossy or lossless.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// Decodes into dst (layout.width x layout.rows x 3 or 4 uint8 samples). Throws UnsupportedError for
// other samples or bit depths, CodecError for a corrupt stream or one whose size differs from the
// tile's (an alpha channel the tile lacks is dropped, a missing one reads as opaque).
void webp_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst);
// The same, row r at dst + r * row_stride.
void webp_decode_rows(std::span<const std::byte> src, const TileLayout& layout, std::byte* dst,
                      std::size_t row_stride);

// A WebP image of the tile: lossless when options.webp_quality is negative, else lossy at that quality
// (0 to 100).
std::vector<std::byte> webp_encode(std::span<const std::byte> pixels, const TileLayout& layout,
                                   const EncodeOptions& options);

}  // namespace tilestream::codec
