// Zstandard tiles (TIFF compression 50000, libtiff's ZSTD codec): one zstd frame of the tile's bytes,
// after the predictor.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// Decompresses into dst, which must be filled (bytes past it are ignored, as libtiff does). Throws
// CodecError with zstd's message on a corrupt frame, or when the frame ends short.
void zstd_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst);

// One zstd frame at options.zstd_level (1 to 22, else UsageError).
std::vector<std::byte> zstd_encode(std::span<const std::byte> data, const TileLayout& layout,
                                   const EncodeOptions& options);

}  // namespace tilestream::codec
