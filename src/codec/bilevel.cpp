// Unpacking and packing of 1-bit rows (TIFF bilevel images), and FillOrder 2's bit reversal.
#include "codec/bilevel.hpp"

#include <cstdint>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {

TileLayout packed_layout(const TileLayout& layout) {
  TileLayout packed = layout;
  packed.width = (layout.width + 7) / 8;
  packed.samples = 1;
  packed.dtype = DType::uint8;
  packed.bilevel = false;
  return packed;
}

void unpack_bilevel(std::span<const std::byte> packed, const TileLayout& layout, std::span<std::byte> dst) {
  check<UsageError>(layout.samples == 1 && layout.dtype == DType::uint8 && packed.size() == layout.stored_bytes() &&
                        dst.size() == layout.decoded_bytes(),
                    "unpacking ", packed.size(), " bytes of 1-bit rows into ", dst.size(), " bytes of a ", layout.width,
                    " x ", layout.rows, " tile of ", layout.samples, " ", to_string(layout.dtype), " samples");
  const std::size_t row_bytes = (layout.width + 7) / 8;
  const auto one = static_cast<std::byte>(layout.bilevel_max);
  for (std::uint32_t r = 0; r < layout.rows; ++r) {
    const std::byte* in = packed.data() + r * row_bytes;
    std::byte* out = dst.data() + std::size_t{r} * layout.width;
    for (std::uint32_t x = 0; x < layout.width; ++x)
      out[x] = ((std::to_integer<unsigned>(in[x / 8]) >> (7 - x % 8)) & 1u) != 0 ? one : std::byte{0};
  }
}

std::vector<std::byte> pack_bilevel(std::span<const std::byte> pixels, const TileLayout& layout) {
  check<UsageError>(layout.samples == 1 && layout.dtype == DType::uint8 && pixels.size() == layout.decoded_bytes(),
                    "packing ", pixels.size(), " bytes as 1-bit rows of a ", layout.width, " x ", layout.rows, " tile");
  const std::size_t row_bytes = (layout.width + 7) / 8;
  std::vector<std::byte> packed(row_bytes * layout.rows);
  for (std::uint32_t r = 0; r < layout.rows; ++r) {
    const std::byte* in = pixels.data() + std::size_t{r} * layout.width;
    std::byte* out = packed.data() + r * row_bytes;
    for (std::uint32_t x = 0; x < layout.width; ++x) {
      if (in[x] != std::byte{0}) out[x / 8] |= static_cast<std::byte>(0x80u >> (x % 8));
    }
  }
  return packed;
}

void reverse_bits(std::span<std::byte> data) {
  for (std::byte& b : data) {
    unsigned v = std::to_integer<unsigned>(b);
    v = ((v & 0xf0u) >> 4) | ((v & 0x0fu) << 4);
    v = ((v & 0xccu) >> 2) | ((v & 0x33u) << 2);
    v = ((v & 0xaau) >> 1) | ((v & 0x55u) << 1);
    b = static_cast<std::byte>(v);
  }
}

}  // namespace tilestream::codec
