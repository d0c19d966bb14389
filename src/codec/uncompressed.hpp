// Compression 1: the stored bytes are the samples.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// Copies the first dst.size() bytes of src; throws CodecError when src is shorter.
void uncompressed_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst);

std::vector<std::byte> uncompressed_encode(std::span<const std::byte> data, const TileLayout& layout,
                                           const EncodeOptions& options);

}  // namespace tilestream::codec
