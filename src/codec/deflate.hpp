// Deflate (compressions 8 "Adobe deflate" and 32946 "deflate"): zlib streams.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// Inflates into dst, which must be filled (data past it is ignored, as libtiff does).
// Throws CodecError with zlib's message on a corrupt stream, or when it ends short.
void deflate_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst);

// zlib compress2 at options.deflate_level (-1 or 0..9, else UsageError).
std::vector<std::byte> deflate_encode(std::span<const std::byte> data, const TileLayout& layout,
                                      const EncodeOptions& options);

}  // namespace tilestream::codec
