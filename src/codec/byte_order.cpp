// Byte swapping of 16- and 32-bit samples stored in the other byte order than the host's.
#include "codec/byte_order.hpp"

#include "codec/predictor.hpp"

#include <bit>
#include <utility>

namespace tilestream::codec {

bool needs_byte_swap(const TileLayout& layout) {
  constexpr bool host_big_endian = std::endian::native == std::endian::big;
  // The floating-point predictor's bytes are in neither order: undoing it gives host order.
  return bytes_per_sample(layout.dtype) >= 2 && layout.big_endian != host_big_endian &&
         layout.predictor != predictor::floating_point;
}

void swap_bytes_16(std::span<std::byte> data) {
  std::byte* p = data.data();
  const std::size_t pairs = data.size() / 2;
  for (std::size_t i = 0; i < pairs; ++i) std::swap(p[2 * i], p[2 * i + 1]);
}

void swap_bytes_32(std::span<std::byte> data) {
  std::byte* p = data.data();
  const std::size_t quads = data.size() / 4;
  for (std::size_t i = 0; i < quads; ++i) {
    std::swap(p[4 * i], p[4 * i + 3]);
    std::swap(p[4 * i + 1], p[4 * i + 2]);
  }
}

}  // namespace tilestream::codec
