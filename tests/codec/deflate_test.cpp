// Deflate decoding: exact fill, short streams and corrupt streams.
#include "codec/deflate.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

TEST(Deflate, DecodesAKnownZlibStream) {
  // Python: zlib.compress(b"hello hello hello hello").hex()
  const std::vector<std::byte> stream = from_hex("789ccb48cdc9c957c8402701680308b1");
  EXPECT_EQ(decode(compression::deflate, stream, make_layout(23, 1, 1)), to_bytes("hello hello hello hello"));
  EXPECT_EQ(decode(compression::adobe_deflate, stream, make_layout(23, 1, 1)),
            to_bytes("hello hello hello hello"));
}

TEST(Deflate, LevelsAllDecodeToTheSamePixels) {
  const TileLayout layout = make_layout(33, 9, 3);
  const std::vector<std::byte> pixels = test_pixels(layout);
  for (int level : {-1, 0, 1, 9}) {
    EncodeOptions options;
    options.deflate_level = level;
    EXPECT_EQ(decode(compression::deflate, encode_tile(compression::deflate, pixels, layout, options), layout), pixels)
        << "level " << level;
  }
}

TEST(Deflate, BadLevelIsAUsageError) {
  const TileLayout layout = make_layout(2, 2, 1);
  EncodeOptions options;
  options.deflate_level = 10;
  expect_error<UsageError>([&] { encode_tile(compression::deflate, test_pixels(layout), layout, options); },
                           "deflate level must be -1 or 0..9, not 10");
}

TEST(Deflate, StreamLongerThanTheTileFillsIt) {
  const std::vector<std::byte> stream = from_hex("789ccb48cdc9c957c8402701680308b1");
  EXPECT_EQ(decode(compression::deflate, stream, make_layout(5, 1, 1)), to_bytes("hello"));
}

TEST(Deflate, ShortOutputIsAnError) {
  const std::vector<std::byte> stream = from_hex("789ccb48cdc9c957c8402701680308b1");
  expect_error<CodecError>([&] { decode(compression::deflate, stream, make_layout(24, 1, 1)); },
                           "deflate stream decoded to 23 bytes, expected 24");
}

TEST(Deflate, TruncatedStreamIsAnError) {
  const TileLayout layout = make_layout(64, 64, 1);
  std::vector<std::byte> stream = encode_tile(compression::deflate, test_pixels(layout), layout, EncodeOptions{});
  stream.resize(stream.size() / 2);
  expect_error<CodecError>([&] { decode(compression::deflate, stream, layout); }, "deflate stream truncated: decoded ");
}

TEST(Deflate, CorruptStreamCarriesZlibsMessage) {
  // A valid zlib header followed by a block with the reserved type 3.
  expect_error<CodecError>([] { decode(compression::deflate, from_hex("789c07000000"), make_layout(4, 1, 1)); },
                           "deflate stream is corrupt: invalid block type");
  // Not a zlib header at all.
  expect_error<CodecError>([] { decode(compression::deflate, to_bytes("garbage!"), make_layout(4, 1, 1)); },
                           "deflate stream is corrupt: incorrect header check");
}

}  // namespace
}  // namespace tilestream::codec::test

namespace tilestream::codec::test {
namespace {

TEST(Deflate, StreamWithoutItsChecksumIsAnError) {
  std::vector<std::byte> stream = from_hex("789ccb48cdc9c957c8402701680308b1");
  stream.resize(stream.size() - 4);  // drop the Adler-32
  expect_error<CodecError>([&] { decode(compression::deflate, stream, make_layout(23, 1, 1)); },
                           "ends before its checksum");
}

TEST(Deflate, CorruptionInsideTheKeptPartFailsTheChecksum) {
  // A stored (uncompressed) deflate block: changing a literal byte decodes "fine" but breaks the
  // Adler-32, which must be checked even though the tile is already full.
  const TileLayout layout = make_layout(16, 1, 1);
  EncodeOptions stored;
  stored.deflate_level = 0;
  std::vector<std::byte> stream = encode_tile(compression::deflate, test_pixels(layout), layout, stored);
  stream[2 + 5 + 3] ^= std::byte{0x40};  // zlib header, stored-block header, then the 4th literal
  expect_error<CodecError>([&] { decode(compression::deflate, stream, layout); }, "incorrect data check");
}

}  // namespace
}  // namespace tilestream::codec::test
