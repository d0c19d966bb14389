// TIFF Predictor tag: horizontal differencing (predictor 2) and the floating-point predictor (3),
// applied before compression.
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

// Throws UnsupportedError naming the predictor unless it is 1, 2 (not on 1-bit samples), or 3 on
// float16 or float32 samples.
void check_predictor(const TileLayout& layout);

// Undoes / applies layout.predictor in place (data.size() == layout.decoded_bytes()). Predictors 1
// and 2 work on host-order samples: sums wrap around modulo 2^bits, as TIFF specifies. Predictor 3
// (libtiff's floating-point predictor, Adobe's TIFF Technical Note 3) works on a row's bytes: each
// row is stored as its samples' byte planes, most significant first, differenced byte by byte
// across the row; undoing it yields host-order samples and applying it takes them, so the file's
// byte order plays no part there.
void undo_predictor(const TileLayout& layout, std::span<std::byte> data);
void apply_predictor(const TileLayout& layout, std::span<std::byte> data);

}  // namespace tilestream::codec
