// Uncompressed tiles: a bounds-checked copy.
#include "codec/uncompressed.hpp"

#include <cstring>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {

void uncompressed_decode(std::span<const std::byte> src, const TileLayout& /*layout*/, std::span<std::byte> dst) {
  check<CodecError>(src.size() >= dst.size(), "uncompressed data has ", src.size(), " bytes, expected ",
                    dst.size());
  if (!dst.empty()) std::memcpy(dst.data(), src.data(), dst.size());
}

std::vector<std::byte> uncompressed_encode(std::span<const std::byte> data, const TileLayout& /*layout*/,
                                           const EncodeOptions& /*options*/) {
  return {data.begin(), data.end()};
}

}  // namespace tilestream::codec
