// The table of codecs keyed by TIFF compression id: adding a codec is one file and one line here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// Decodes a compressed stream into exactly dst.size() bytes; throws CodecError otherwise.
using DecodeFn = void (*)(std::span<const std::byte> src, const TileLayout& layout,
                          std::span<std::byte> dst);
// Encodes prepared bytes (or pixels, for image codecs) into a new stream.
using EncodeFn = std::vector<std::byte> (*)(std::span<const std::byte> data, const TileLayout& layout,
                                            const EncodeOptions& options);

// How a codec relates to the samples it carries.
enum class CodecKind {
  bytes,  // lossless byte stream: the registry handles byte order and the predictor around it
  image,  // codec that knows pixels (JPEG): it produces native samples itself; no predictor
};

struct Codec {
  std::uint16_t id;
  const char* name;
  CodecKind kind;
  DecodeFn decode;  // nullptr: known by name only, not decodable
  EncodeFn encode;  // nullptr: not encodable
};

// The registered codec for a compression id, or nullptr when the id is unknown.
const Codec* find_codec(std::uint16_t compression);

}  // namespace tilestream::codec
