// LZMA tiles (TIFF compression 34925, libtiff's LZMA2 codec): one .xz stream of the tile's bytes,
// after the predictor.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// Decompresses into dst, which must be filled (bytes past it are ignored, as libtiff does). Throws
// CodecError with liblzma's reason on a corrupt stream, or when it ends short.
void lzma_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst);

// One .xz stream at preset options.lzma_preset (0 to 9, else UsageError), CRC-64 checked.
std::vector<std::byte> lzma_encode(std::span<const std::byte> data, const TileLayout& layout,
                                   const EncodeOptions& options);

}  // namespace tilestream::codec
