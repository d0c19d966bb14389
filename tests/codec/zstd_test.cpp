// zstd tiles (TIFF 50000): a stream written by another encoder, levels, a frame longer than the tile,
// short, truncated and corrupt frames, and concatenated frames.
#include "codec/zstd.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

// Python: imagecodecs.zstd_encode(b"hello hello hello hello").hex()
constexpr const char* kHello = "28b52ffd20176500003068656c6c6f200100994b11";

TEST(Zstd, DecodesAKnownFrame) {
  EXPECT_EQ(decode(compression::zstd, from_hex(kHello), make_layout(23, 1, 1)),
            to_bytes("hello hello hello hello"));
}

TEST(Zstd, LevelsAllDecodeToTheSamePixels) {
  const TileLayout layout = make_layout(33, 9, 3, DType::uint16, 2);
  const std::vector<std::byte> pixels = test_pixels(layout);
  for (int level : {1, 3, 9, 19}) {
    EncodeOptions options;
    options.zstd_level = level;
    EXPECT_EQ(decode(compression::zstd, encode_tile(compression::zstd, pixels, layout, options), layout),
              pixels)
        << "level " << level;
  }
}

TEST(Zstd, BadLevelIsAUsageError) {
  const TileLayout layout = make_layout(2, 2, 1);
  EncodeOptions options;
  options.zstd_level = 0;
  expect_error<UsageError>([&] { encode_tile(compression::zstd, test_pixels(layout), layout, options); },
                           "zstd level must be 1 to ");
}

TEST(Zstd, FrameLongerThanTheTileFillsIt) {
  EXPECT_EQ(decode(compression::zstd, from_hex(kHello), make_layout(5, 1, 1)), to_bytes("hello"));
}

TEST(Zstd, ShortOutputIsAnError) {
  expect_error<CodecError>([] { decode(compression::zstd, from_hex(kHello), make_layout(24, 1, 1)); },
                           "zstd stream truncated: decoded 23 of 24 bytes");
}

TEST(Zstd, TruncatedFrameIsAnError) {
  const TileLayout layout = make_layout(64, 64, 1);
  std::vector<std::byte> stream =
      encode_tile(compression::zstd, lcg_noise(64 * 64, 7), layout, EncodeOptions{});
  stream.resize(stream.size() / 2);
  expect_error<CodecError>([&] { decode(compression::zstd, stream, layout); },
                           "zstd stream truncated: decoded ");
}

TEST(Zstd, CorruptFrameCarriesZstdsMessage) {
  expect_error<CodecError>([] { decode(compression::zstd, to_bytes("garbage!"), make_layout(4, 1, 1)); },
                           "zstd stream is corrupt: Unknown frame descriptor");
  std::vector<std::byte> stream = from_hex(kHello);
  stream.back() ^= std::byte{0xff};  // the content checksum
  expect_error<CodecError>([&] { decode(compression::zstd, stream, make_layout(23, 1, 1)); },
                           "zstd stream is corrupt");
}

TEST(Zstd, ConcatenatedFramesFillTheTile) {
  std::vector<std::byte> stream = from_hex(kHello);
  const std::vector<std::byte> again = from_hex(kHello);
  stream.insert(stream.end(), again.begin(), again.end());
  EXPECT_EQ(decode(compression::zstd, stream, make_layout(46, 1, 1)),
            to_bytes("hello hello hello hellohello hello hello hello"));
}

}  // namespace
}  // namespace tilestream::codec::test
