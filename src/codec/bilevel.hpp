// 1-bit (bilevel) samples: TIFF's packed rows unpacked into one uint8 a pixel, and packed back; the
// bit reversal of FillOrder 2 streams.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// The layout of a bilevel tile's packed stream as the byte codecs and predictors see it: one uint8
// sample per byte, (width + 7) / 8 of them a row.
TileLayout packed_layout(const TileLayout& layout);

// Unpacks `packed` (layout.stored_bytes() bytes) into `dst` (layout.decoded_bytes()): pixel x of a row
// is bit 7 - x % 8 of byte x / 8, 0 or layout.bilevel_max.
void unpack_bilevel(std::span<const std::byte> packed, const TileLayout& layout, std::span<std::byte> dst);

// Packs `pixels` (layout.decoded_bytes()) into rows of bits, most significant first, a set bit for
// each non-zero pixel, the padding bits of each row clear.
std::vector<std::byte> pack_bilevel(std::span<const std::byte> pixels, const TileLayout& layout);

// Reverses the order of the bits of each byte (FillOrder 2 to 1 and back).
void reverse_bits(std::span<std::byte> data);

}  // namespace tilestream::codec
