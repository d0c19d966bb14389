// LZMA tiles (TIFF 34925, .xz streams): a stream written by Python's lzma, presets, a stream longer
// than the tile, short, truncated and corrupt streams.
#include "codec/lzma.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

#if TILESTREAM_WITH_LZMA

// Python: lzma.compress(b"hello hello hello hello", format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64).hex()
constexpr const char* kHello =
    "fd377a585a000004e6d6b4460200210116000000742fe5a3e00016000b5d00341949ee8de9560ab5e00000008943dbea0334e4d0"
    "00012717898290791fb6f37d010000000004595a";

TEST(Lzma, DecodesAKnownStream) {
  EXPECT_EQ(decode(compression::lzma, from_hex(kHello), make_layout(23, 1, 1)),
            to_bytes("hello hello hello hello"));
}

TEST(Lzma, PresetsAllDecodeToTheSamePixels) {
  const TileLayout layout = make_layout(33, 9, 3, DType::uint16, 2);
  const std::vector<std::byte> pixels = test_pixels(layout);
  for (int preset : {0, 6, 9}) {
    EncodeOptions options;
    options.lzma_preset = preset;
    EXPECT_EQ(decode(compression::lzma, encode_tile(compression::lzma, pixels, layout, options), layout),
              pixels)
        << "preset " << preset;
  }
}

TEST(Lzma, BadPresetIsAUsageError) {
  const TileLayout layout = make_layout(2, 2, 1);
  EncodeOptions options;
  options.lzma_preset = 10;
  expect_error<UsageError>([&] { encode_tile(compression::lzma, test_pixels(layout), layout, options); },
                           "lzma preset must be 0 to 9, not 10");
}

TEST(Lzma, StreamLongerThanTheTileFillsIt) {
  EXPECT_EQ(decode(compression::lzma, from_hex(kHello), make_layout(5, 1, 1)), to_bytes("hello"));
}

TEST(Lzma, ShortOutputIsAnError) {
  expect_error<CodecError>([] { decode(compression::lzma, from_hex(kHello), make_layout(24, 1, 1)); },
                           "lzma stream truncated: decoded 23 of 24 bytes");
}

TEST(Lzma, TruncatedStreamIsAnError) {
  const TileLayout layout = make_layout(64, 64, 1);
  std::vector<std::byte> stream =
      encode_tile(compression::lzma, lcg_noise(64 * 64, 7), layout, EncodeOptions{});
  stream.resize(stream.size() / 2);
  expect_error<CodecError>([&] { decode(compression::lzma, stream, layout); },
                           "lzma stream truncated: decoded ");
}

TEST(Lzma, CorruptStreamsAreNamed) {
  expect_error<CodecError>(
      [] { decode(compression::lzma, to_bytes("garbage! garbage!"), make_layout(4, 1, 1)); },
      "lzma stream is corrupt: not an .xz stream");
  std::vector<std::byte> stream = from_hex(kHello);
  stream[40] ^= std::byte{0x55};  // inside the compressed block
  expect_error<CodecError>([&] { decode(compression::lzma, stream, make_layout(23, 1, 1)); }, "lzma stream ");
}

#else

// A build without liblzma knows the compression and says what it lacks.
TEST(Lzma, ThisBuildNamesTheMissingLibrary) {
  const TileLayout layout = make_layout(4, 4, 3);
  EXPECT_FALSE(is_supported(compression::lzma));
  expect_error<UnsupportedError>([&] { decode(compression::lzma, std::vector<std::byte>(16), layout); },
                                 "this build has no liblzma");
}

#endif  // TILESTREAM_WITH_LZMA

}  // namespace
}  // namespace tilestream::codec::test
