// libFuzzer target over the tile decoders alone. The first 4 bytes choose the compression and the
// tile layout (small, so each input is cheap); the rest are the stored tile bytes.
//   byte 0: compression (index into `compressions`)
//   byte 1: width - 1 (1..64)          byte 2: rows - 1 (1..64)
//   byte 3: bits 0-1 samples (1, 2, 3, 4), bit 2 16-bit, bits 3-4 predictor (1, 2, 3, 1),
//           bit 5 big-endian, bit 6 YCbCr photometric, bit 7 JPEGTables from make_jpeg_tables
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"

namespace {

namespace compression = tilestream::codec::compression;

constexpr std::array<std::uint16_t, 8> compressions = {
    compression::none,    compression::lzw,      compression::jpeg,           compression::adobe_deflate,
    compression::deflate, compression::packbits, compression::jpeg2000_ycbcr, compression::zstd};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t header = 4;
  if (size < header) return 0;
  tilestream::codec::TileLayout layout;
  const std::uint16_t id = compressions[data[0] % compressions.size()];
  layout.width = 1u + (data[1] & 63u);
  layout.rows = 1u + (data[2] & 63u);
  const std::uint8_t flags = data[3];
  layout.samples = 1u + (flags & 3u);
  layout.dtype = (flags & 4u) != 0 ? tilestream::DType::uint16 : tilestream::DType::uint8;
  constexpr std::array<std::uint16_t, 4> predictors = {1, 2, 3, 1};
  layout.predictor = predictors[(flags >> 3) & 3u];
  layout.big_endian = (flags & 32u) != 0;
  layout.photometric = (flags & 64u) != 0    ? tilestream::codec::photometric::ycbcr
                       : layout.samples >= 3 ? tilestream::codec::photometric::rgb
                                             : tilestream::codec::photometric::min_is_black;
  std::vector<std::byte> tables;
  if ((flags & 128u) != 0 && (layout.samples == 1 || layout.samples == 3)) {
    tables = tilestream::codec::make_jpeg_tables(layout.samples, {});
    layout.jpeg_tables = tables;
  }
  // Copy the payload so that ASan sees reads past its end (libFuzzer's buffer is exact too, but
  // the header would otherwise sit in front of it).
  const std::vector<std::byte> stored(reinterpret_cast<const std::byte*>(data) + header,
                                      reinterpret_cast<const std::byte*>(data) + size);
  std::vector<std::byte> decoded(layout.decoded_bytes());
  try {
    tilestream::codec::decode_tile(id, stored, layout, decoded);
  } catch (const tilestream::Error&) {
  }
  return 0;
}
