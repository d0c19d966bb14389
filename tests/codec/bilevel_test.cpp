// 1-bit rows: unpacked most significant bit first, each row padded to a byte, into 0 and bilevel_max;
// packed back; FillOrder 2 streams bit-reversed before decoding; through decode_tile with the byte
// codecs; refused by the image codecs and short streams named.
#include "codec/bilevel.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

TileLayout bilevel_layout(std::uint32_t width, std::uint32_t rows, bool lsb_first = false, std::uint8_t max = 1,
                          std::uint16_t predictor = 1) {
  TileLayout layout = make_layout(width, rows, 1, DType::uint8, predictor);
  layout.bilevel = true;
  layout.bilevel_lsb_first = lsb_first;
  layout.bilevel_max = max;
  return layout;
}

std::vector<std::byte> values(std::initializer_list<unsigned> v) {
  std::vector<std::byte> out;
  for (const unsigned x : v) out.push_back(static_cast<std::byte>(x));
  return out;
}

TEST(Bilevel, UnpacksMostSignificantBitFirstWithRowsPaddedToAByte) {
  // Two rows of 10 pixels: 2 bytes each, the last 6 bits of each row padding (set here, ignored).
  const TileLayout layout = bilevel_layout(10, 2);
  EXPECT_EQ(layout.stored_bytes(), 4u);
  EXPECT_EQ(layout.decoded_bytes(), 20u);
  std::vector<std::byte> dst(20);
  unpack_bilevel(from_hex("a1" "7f" "01" "c0"), layout, dst);
  EXPECT_EQ(dst, values({1, 0, 1, 0, 0, 0, 0, 1, 0, 1,  //
                         0, 0, 0, 0, 0, 0, 0, 1, 1, 1}));
}

TEST(Bilevel, FillOrder2AndMax255) {
  // Uncompressed, FillOrder 2: bits least significant first.
  const TileLayout layout = bilevel_layout(10, 1, true, 255);
  EXPECT_EQ(decode(compression::none, from_hex("a1" "02"), layout), values({255, 0, 0, 0, 0, 255, 0, 255, 0, 255}));
  std::vector<std::byte> bytes = from_hex("01" "a1" "f0");
  reverse_bits(bytes);
  EXPECT_EQ(bytes, from_hex("80" "85" "0f"));
}

TEST(Bilevel, PackIsTheInverseWithClearPadding) {
  const TileLayout layout = bilevel_layout(13, 3);
  std::vector<std::byte> pixels(layout.decoded_bytes());
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::byte>((i * 7) % 3 == 0 ? 1 : 0);
  const std::vector<std::byte> packed = pack_bilevel(pixels, layout);
  ASSERT_EQ(packed.size(), 6u);
  EXPECT_EQ(std::to_integer<unsigned>(packed[1]) & 0x07u, 0u);  // the 3 bits past pixel 12
  std::vector<std::byte> back(pixels.size());
  unpack_bilevel(packed, layout, back);
  EXPECT_EQ(back, pixels);
}

TEST(Bilevel, RoundTripsThroughEveryByteCodec) {
  std::vector<std::uint16_t> codecs = {compression::none,    compression::lzw,      compression::adobe_deflate,
                                       compression::deflate, compression::packbits, compression::zstd};
  if (is_supported(compression::lzma)) codecs.push_back(compression::lzma);
  for (const std::uint16_t c : codecs) {
    for (const std::uint8_t max : {std::uint8_t{1}, std::uint8_t{255}}) {
      const TileLayout layout = bilevel_layout(37, 11, c == compression::lzw || c == compression::none, max);
      std::vector<std::byte> pixels(layout.decoded_bytes());
      std::uint32_t x = 9;
      for (auto& p : pixels) {
        x = x * 1664525u + 1013904223u;
        p = (x >> 28) < 5 ? static_cast<std::byte>(max) : std::byte{0};
      }
      const std::vector<std::byte> encoded = encode_tile(c, pixels, layout, {});
      if (c == compression::none) EXPECT_EQ(encoded.size(), layout.stored_bytes());
      EXPECT_EQ(decode(c, encoded, layout), pixels) << compression_name(c);
    }
  }
}

TEST(Bilevel, ShortStreamsAndImageCodecsAreRefusedByName) {
  const TileLayout layout = bilevel_layout(20, 4);
  std::vector<std::byte> dst(layout.decoded_bytes());
  expect_error<CodecError>([&] { decode_tile(compression::none, from_hex("ffff"), layout, dst); },
                           "uncompressed data has 2 bytes, expected 12");
  expect_error<UnsupportedError>([&] { decode_tile(compression::jpeg, from_hex("ffd8"), layout, dst); },
                                 "JPEG (7) holds no 1-bit samples");
  const TileLayout predicted = bilevel_layout(20, 4, false, 1, 2);
  expect_error<UnsupportedError>([&] { decode_tile(compression::lzw, from_hex("80"), predicted, dst); },
                                 "predictor 2 is not supported for 1-bit samples");
}

}  // namespace
}  // namespace tilestream::codec::test
