// TIFF LZW (compression 5): MSB-first codes of 9 to 12 bits with libtiff's "early change".
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// Decodes until dst is full (later codes, EOI included, are not read, as libtiff does) or EOI.
// Throws CodecError on invalid codes or when the stream ends before dst is full;
// UnsupportedError on the old-style (LSB-first, pre-1995 libtiff) variant.
void lzw_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst);

// Encodes as libtiff does: ClearCode first, width grows one code early, ClearCode when the table
// reaches 4094 entries, EOI last.
std::vector<std::byte> lzw_encode(std::span<const std::byte> data, const TileLayout& layout,
                                  const EncodeOptions& options);

}  // namespace tilestream::codec
