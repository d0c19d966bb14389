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
// Decodes writing row r at dst + r * row_stride; offered by image codecs that produce rows.
using RowsDecodeFn = void (*)(std::span<const std::byte> src, const TileLayout& layout, std::byte* dst,
                              std::size_t row_stride);
// Decodes at least `window` of the tile, rows at dst + r * row_stride (decode_tile_window_into).
using WindowDecodeFn = void (*)(std::span<const std::byte> src, const TileLayout& layout, const TileWindow& window,
                                std::byte* dst, std::size_t row_stride);
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
  RowsDecodeFn decode_rows;  // nullptr: decode_tile_into goes through a scratch buffer
  WindowDecodeFn decode_window = nullptr;  // nullptr: a window is decoded as the whole tile
  const char* not_built = nullptr;  // why decode is nullptr in this build (a library it lacked), if that is why
};

// The registered codec for a compression id, or nullptr when the id is unknown.
const Codec* find_codec(std::uint16_t compression);

}  // namespace tilestream::codec
