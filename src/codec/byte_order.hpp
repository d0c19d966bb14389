// Conversion of 16- and 32-bit samples between a file's byte order and the host's.
#pragma once

#include <cstddef>
#include <span>

#include "tilestream/codec/codec.hpp"

namespace tilestream::codec {

// True when samples stored as `layout` says must be byte-swapped to reach host order (and back): 16-
// and 32-bit samples in the other order, unless the floating-point predictor stored them (predictor.hpp).
bool needs_byte_swap(const TileLayout& layout);

// Swaps each pair of bytes in place; `data` is a whole number of 16-bit samples (a trailing odd
// byte is left alone). No alignment is required.
void swap_bytes_16(std::span<std::byte> data);
// Reverses each group of four bytes in place (32-bit samples; trailing bytes are left alone).
void swap_bytes_32(std::span<std::byte> data);

// Converts file order to host order, or back (the operation is its own inverse).
inline void convert_byte_order(const TileLayout& layout, std::span<std::byte> data) {
  if (!needs_byte_swap(layout)) return;
  if (bytes_per_sample(layout.dtype) == 2) swap_bytes_16(data);
  else swap_bytes_32(data);
}

}  // namespace tilestream::codec
