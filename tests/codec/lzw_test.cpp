// TIFF LZW against streams written by another implementation, and against corrupt streams.
#include "codec/lzw.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/codec_test_support.hpp"
#include "codec/lzw_vectors.hpp"

namespace tilestream::codec::test {
namespace {

// b"TOBEORNOTTOBEORTOBEORNOT#" * 3 + bytes(range(40)), LZW-encoded by libtiff (through Pillow) and by
// imagecodecs.lzw_encode alike.
constexpr std::string_view short_hex =
    "801509e422293ca44e2795205048342e0b078488e1d068442a070f89c40a9128bc5213198cc544600008080604028180e080"
    "4828160c068381e100884826140a8582e180c868361c0e8783e20108884624128984f010";

std::vector<std::byte> short_plain() {
  std::vector<std::byte> out;
  for (int i = 0; i < 3; ++i) {
    const std::vector<std::byte> part = to_bytes("TOBEORNOTTOBEORTOBEORNOT#");
    out.insert(out.end(), part.begin(), part.end());
  }
  for (int i = 0; i < 40; ++i) out.push_back(static_cast<std::byte>(i));
  return out;
}

template <std::size_t N>
std::vector<std::byte> join_hex(const std::string_view (&lines)[N]) {
  std::string hex;
  for (std::string_view line : lines) hex += line;
  return from_hex(hex);
}

TileLayout bytes_layout(std::size_t count) { return make_layout(static_cast<std::uint32_t>(count), 1, 1); }

TEST(Lzw, DecodesKnownShortStream) {
  const std::vector<std::byte> plain = short_plain();
  ASSERT_EQ(plain.size(), 115u);
  EXPECT_EQ(decode(compression::lzw, from_hex(short_hex), bytes_layout(plain.size())), plain);
}

TEST(Lzw, DecodesLibtiffStreamWithWidthChangesAndClearCode) {
  const std::vector<std::byte> stream = join_hex(lzw_long_libtiff_hex);
  ASSERT_EQ(stream.size(), 7598u);
  // As a 120 x 100 strip, to go through the public entry point with a real layout.
  EXPECT_EQ(decode(compression::lzw, stream, make_layout(120, 100, 1)), lcg_bytes(12000, 7, 16));
}

TEST(Lzw, DecodesStreamThatFillsTheTableBeforeClearing) {
  // imagecodecs writes two more codes than libtiff before its ClearCode: table entries 4093, 4094.
  const std::vector<std::byte> stream = join_hex(lzw_long_imagecodecs_hex);
  ASSERT_EQ(stream.size(), 7600u);
  EXPECT_EQ(decode(compression::lzw, stream, make_layout(120, 100, 1)), lcg_bytes(12000, 7, 16));
}

TEST(Lzw, EncoderWritesTheSameBytesAsLibtiff) {
  EXPECT_EQ(lzw_encode(short_plain(), bytes_layout(115), EncodeOptions{}), from_hex(short_hex));
  EXPECT_EQ(lzw_encode(lcg_bytes(12000, 7, 16), bytes_layout(12000), EncodeOptions{}),
            join_hex(lzw_long_libtiff_hex));
}

TEST(Lzw, EmptyInputEncodesToClearAndEoi) {
  // ClearCode (256) and EOI (257) in 9 bits each, MSB first: 1000 0000 0|100 0000 01|00 0000.
  EXPECT_EQ(lzw_encode({}, bytes_layout(0), EncodeOptions{}), from_hex("804040"));
}

TEST(Lzw, StreamWithoutEoiIsAcceptedWhenTheTileIsFull) {
  std::vector<std::byte> stream = from_hex(short_hex);
  // The last data code ends at bit 675 and EOI takes bits 675..683: dropping the last byte cuts EOI.
  stream.resize(stream.size() - 1);
  const std::vector<std::byte> plain = short_plain();
  EXPECT_EQ(decode(compression::lzw, stream, bytes_layout(plain.size())), plain);
}

TEST(Lzw, DataBeyondTheTileIsIgnored) {
  // Like libtiff: a stream longer than the tile fills it and the rest is not read.
  const std::vector<std::byte> plain = short_plain();
  const std::vector<std::byte> first(plain.begin(), plain.begin() + 50);
  EXPECT_EQ(decode(compression::lzw, from_hex(short_hex), bytes_layout(50)), first);
}

TEST(Lzw, ShortOutputIsAnError) {
  expect_error<CodecError>([] { decode(compression::lzw, from_hex(short_hex), bytes_layout(116)); },
                           "LZW stream decoded to 115 bytes, expected 116");
}

TEST(Lzw, TruncatedStreamIsAnError) {
  std::vector<std::byte> stream = from_hex(short_hex);
  stream.resize(40);
  expect_error<CodecError>([&] { decode(compression::lzw, stream, bytes_layout(115)); },
                           "LZW stream ended without EOI after ");
}

TEST(Lzw, CodeBeyondTheTableIsAnError) {
  // ClearCode, literal 'A' (65), then code 300 while the next free code is 258.
  // 9-bit codes: 100000000 001000001 100101100 -> bits packed MSB first.
  expect_error<CodecError>([] { decode(compression::lzw, from_hex("80106580"), bytes_layout(10)); },
                           "invalid LZW code 300 (next code 258)");
}

TEST(Lzw, NonLiteralAfterClearCodeIsAnError) {
  // ClearCode then code 258.
  expect_error<CodecError>([] { decode(compression::lzw, from_hex("804080"), bytes_layout(10)); },
                           "LZW code 258 after ClearCode");
}

TEST(Lzw, OldStyleStreamIsUnsupported) {
  expect_error<UnsupportedError>([] { decode(compression::lzw, from_hex("0001ff"), bytes_layout(10)); },
                                 "old-style (LSB-first) LZW");
}

TEST(Lzw, RandomBytesNeverDecodeSilentlyWrong) {
  // Random input must either throw CodecError/UnsupportedError or fill the tile; never crash
  // (the sanitizer build checks the "never UB" part).
  int errors = 0;
  for (std::uint32_t seed = 1; seed <= 300; ++seed) {
    std::vector<std::byte> stream = lcg_noise(1 + seed % 200, seed);
    stream[0] = std::byte{0x80};  // start with a ClearCode so that decoding gets going
    std::vector<std::byte> out(1000);
    try {
      decode_tile(compression::lzw, stream, bytes_layout(out.size()), out);
    } catch (const CodecError&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 250);  // a 1000-byte tile from at most 200 random bytes almost always fails
}

}  // namespace
}  // namespace tilestream::codec::test
