// TIFF Predictor tag: horizontal differencing (predictor 2) applied before compression.
#pragma once

#include <cstddef>
#include <span>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

namespace predictor {
inline constexpr std::uint16_t none = 1;
inline constexpr std::uint16_t horizontal = 2;
inline constexpr std::uint16_t floating_point = 3;
}  // namespace predictor

// Throws UnsupportedError naming the predictor unless it is 1 or 2.
void check_predictor(std::uint16_t predictor);

// Undoes / applies layout.predictor in place on host-order samples laid out as `layout` says
// (data.size() == layout.decoded_bytes()). Sums wrap around modulo 2^bits, as TIFF specifies.
void undo_predictor(const TileLayout& layout, std::span<std::byte> data);
void apply_predictor(const TileLayout& layout, std::span<std::byte> data);

}  // namespace tilestream::codec
