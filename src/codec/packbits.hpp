// PackBits (compression 32773): Macintosh run-length encoding, one header byte per run.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// Decodes until dst is full; a run crossing its end is cut (libtiff does the same).
// Throws CodecError when the input ends first.
void packbits_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst);

// Encodes each row separately, as the TIFF specification asks.
std::vector<std::byte> packbits_encode(std::span<const std::byte> data, const TileLayout& layout,
                                       const EncodeOptions& options);

}  // namespace tilestream::codec
