// libFuzzer target over the TIFF tile decoders alone (every compression of the codec registry, the
// byte order and predictor steps, JPEG with and without JPEGTables, whole-tile, row-stride and window
// decoding). A 7-byte header chooses the layout (small, so each input is cheap):
//   byte 0: compression (index into `compressions`: every id the registry names, and unknown ones)
//   byte 1: width - 1 (1..64)          byte 2: rows - 1 (1..64)
//   byte 3: bits 0-1 samples - 1, bits 2-3 dtype (with byte 4's bit 4: uint8, uint16, int8, int16,
//           then float32, uint32, int32, float16), bit 4 decode_tile_window_into (the tile's middle:
//           columns and rows from a quarter to three quarters) with the row stride of bit 7 or a packed
//           one, bit 5 big-endian, bit 6 YCbCr photometric, bit 7 decode_tile_into with a padded row
//           stride
//   byte 4: bits 0-1 predictor (1, 2, 3, 7), bits 2-3 JPEGTables: 0 none, 1 make_jpeg_tables,
//           2-3 the first bytes of the payload; bit 4 the dtype's high bit; bit 5 1-bit (bilevel) rows
//           (one uint8 sample), bit 6 their FillOrder 2, bit 7 set bits read as 255
//   bytes 5-6: length of the JPEGTables taken from the payload (little-endian)
// then the stored tile bytes. Only tilestream::Error may escape a decoder.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"

namespace {

namespace compression = tilestream::codec::compression;

// Every compression the registry names (decodable or not), and ids it does not know. Later ids go at
// the end, so that the indices of the committed seeds keep their codec.
constexpr std::array<std::uint16_t, 22> compressions = {
    compression::none,          compression::ccitt_rle,      compression::ccitt_t4,
    compression::ccitt_t6,      compression::lzw,            compression::ojpeg,
    compression::jpeg,          compression::adobe_deflate,  compression::packbits,
    compression::deflate,       compression::jpeg2000_ycbcr, compression::jpeg2000_rgb,
    compression::jpeg2000,      compression::lerc,           compression::lzma,
    compression::zstd,          compression::webp,           compression::jpegxl,
    0,                          9,                           65535,
    compression::jpeg2000_lossy};

constexpr std::array<tilestream::DType, 8> dtypes = {
    tilestream::DType::uint8,   tilestream::DType::uint16, tilestream::DType::int8,  tilestream::DType::int16,
    tilestream::DType::float32, tilestream::DType::uint32, tilestream::DType::int32, tilestream::DType::float16};

}  // namespace

// A codec added to the registry without a line in `compressions` would go unfuzzed: refuse to start.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  for (std::uint32_t id = 0; id <= 65535; ++id) {
    if (tilestream::codec::is_supported(static_cast<std::uint16_t>(id)) &&
        std::find(compressions.begin(), compressions.end(), id) == compressions.end()) {
      std::fprintf(stderr, "fuzz_decoders: compression %u is decodable but not in `compressions`\n", id);
      std::abort();
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t header = 7;
  if (size < header) return 0;
  tilestream::codec::TileLayout layout;
  const std::uint16_t id = compressions[data[0] % compressions.size()];
  layout.width = 1u + (data[1] & 63u);
  layout.rows = 1u + (data[2] & 63u);
  const std::uint8_t flags = data[3];
  layout.samples = 1u + (flags & 3u);
  layout.dtype = dtypes[((flags >> 2) & 3u) | ((data[4] >> 2) & 4u)];
  layout.bilevel = (data[4] & 32u) != 0;
  if (layout.bilevel) {
    layout.samples = 1;
    layout.dtype = tilestream::DType::uint8;
    layout.bilevel_lsb_first = (data[4] & 64u) != 0;
    layout.bilevel_max = (data[4] & 128u) != 0 ? 255 : 1;
  }
  layout.big_endian = (flags & 32u) != 0;
  layout.photometric = (flags & 64u) != 0    ? tilestream::codec::photometric::ycbcr
                       : layout.samples >= 3 ? tilestream::codec::photometric::rgb
                                             : tilestream::codec::photometric::min_is_black;
  const bool into = (flags & 128u) != 0;
  const bool window = (flags & 16u) != 0;
  constexpr std::array<std::uint16_t, 4> predictors = {1, 2, 3, 7};
  layout.predictor = predictors[data[4] & 3u];
  const unsigned tables_mode = (data[4] >> 2) & 3u;

  const auto* payload = reinterpret_cast<const std::byte*>(data) + header;
  std::size_t payload_size = size - header;
  // Copies, so that ASan sees reads past the end of each part.
  std::vector<std::byte> tables;
  if (tables_mode == 1 && (layout.samples == 1 || layout.samples == 3)) {
    tables = tilestream::codec::make_jpeg_tables(layout.samples, {});
  } else if (tables_mode >= 2) {
    const std::size_t n = std::min<std::size_t>(data[5] | (std::size_t{data[6]} << 8), payload_size);
    tables.assign(payload, payload + n);
    payload += n;
    payload_size -= n;
  }
  layout.jpeg_tables = tables;
  const std::vector<std::byte> stored(payload, payload + payload_size);

  try {
    if (!into && !window) {
      std::vector<std::byte> decoded(layout.decoded_bytes());
      tilestream::codec::decode_tile(id, stored, layout, decoded);
    } else {
      // Rows land 3 bytes apart past their end (bit 7), as a tile decoded into a wider image.
      const std::size_t row_bytes =
          std::size_t{layout.width} * layout.samples * tilestream::bytes_per_sample(layout.dtype);
      const std::size_t stride = row_bytes + (into ? 3 : 0);
      std::vector<std::byte> image(stride * layout.rows);
      if (window) {
        const tilestream::codec::TileWindow middle{layout.width / 4, layout.rows / 4,
                                                   std::max(layout.width / 4 + 1, layout.width * 3 / 4),
                                                   std::max(layout.rows / 4 + 1, layout.rows * 3 / 4)};
        tilestream::codec::decode_tile_window_into(id, stored, layout, middle, image.data(), stride);
      } else {
        tilestream::codec::decode_tile_into(id, stored, layout, image.data(), stride);
      }
    }
  } catch (const tilestream::Error&) {
  }
  return 0;
}
