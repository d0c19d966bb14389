// JPEG (compression 7) through libjpeg(-turbo): TIFF tiles as abbreviated streams plus JPEGTables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// Decodes 8-bit JPEG into layout.rows x layout.width x layout.samples interleaved samples.
// layout.jpeg_tables, when not empty, is read first (tables-only stream); layout.jpeg_header, when not
// empty, is put before `src` (one restart interval: CodecError unless it ends with RSTn or EOI), and
// layout.jpeg_scale_denom scales the output (libjpeg's DCT scaling). Colour follows
// layout.photometric: YCbCr (6) is converted to RGB; other 3-component data is taken as RGB as stored.
// Throws CodecError (libjpeg's message) on corrupt data, warnings included, and on a frame that
// does not match the layout; UnsupportedError for 12-bit JPEG or 16-bit layouts.
void jpeg_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst);
// The same, writing row r at dst + r * row_stride (decoding straight into a larger image).
void jpeg_decode_rows(std::span<const std::byte> src, const TileLayout& layout, std::byte* dst,
                      std::size_t row_stride);

// The same, decoding only the 8x8 blocks in and around `window` (libjpeg-turbo's cropping and
// skipping of rows, with a margin of one MCU so that the window's pixels equal a full decode's, fancy
// upsampling included); rows below the window's margin are not decoded at all.
void jpeg_decode_window(std::span<const std::byte> src, const TileLayout& layout, const TileWindow& window,
                        std::byte* dst, std::size_t row_stride);

// Abbreviated stream (no tables) of 1- or 3-sample 8-bit pixels; see EncodeOptions.
std::vector<std::byte> jpeg_encode(std::span<const std::byte> pixels, const TileLayout& layout,
                                   const EncodeOptions& options);

// Tables-only stream matching jpeg_encode's output for these options.
std::vector<std::byte> jpeg_tables(std::uint32_t samples, const EncodeOptions& options);

}  // namespace tilestream::codec
