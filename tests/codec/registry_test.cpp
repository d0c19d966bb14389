// Names, support and dispatch of the codec table, and the checks decode_tile/encode_tile make.
#include "codec/registry.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

struct NameCase {
  std::uint16_t id;
  const char* name;
  bool supported;
};

TEST(Registry, NamesAndSupport) {
  const NameCase cases[] = {
      {1, "none", true},
      {2, "CCITT RLE", false},
      {3, "CCITT Group 3", false},
      {4, "CCITT Group 4", false},
      {5, "LZW", true},
      {6, "old-style JPEG", false},
      {7, "JPEG", true},
      {8, "Adobe deflate", true},
      {32773, "PackBits", true},
      {32946, "deflate", true},
      {33003, "JPEG 2000 (Aperio YCbCr)", TILESTREAM_WITH_OPENJPEG != 0},
      {33004, "JPEG 2000 (lossy)", TILESTREAM_WITH_OPENJPEG != 0},
      {33005, "JPEG 2000 (Aperio RGB)", TILESTREAM_WITH_OPENJPEG != 0},
      {34712, "JPEG 2000", TILESTREAM_WITH_OPENJPEG != 0},
      {34887, "LERC", false},
      {34925, "LZMA", TILESTREAM_WITH_LZMA != 0},
      {50000, "zstd", true},
      {50001, "WebP", TILESTREAM_WITH_WEBP != 0},
      {50002, "JPEG XL", false},
      {0, "unknown", false},
      {12345, "unknown", false},
  };
  for (const NameCase& c : cases) {
    EXPECT_STREQ(compression_name(c.id), c.name) << c.id;
    EXPECT_EQ(is_supported(c.id), c.supported) << c.id;
  }
}

TEST(Registry, UnsupportedCompressionNamesItself) {
  const TileLayout layout = make_layout(4, 4, 1);
  const std::vector<std::byte> src(16);
  expect_error<UnsupportedError>([&] { decode(compression::lerc, src, layout); },
                                 "compression LERC (34887) is not supported");
  expect_error<UnsupportedError>([&] { decode(777, src, layout); }, "compression unknown (777) is not supported");
  expect_error<UnsupportedError>([&] { encode_tile(compression::lerc, src, layout, EncodeOptions{}); },
                                 "encoding compression LERC (34887) is not supported");
}

TEST(Registry, DestinationSizeMustMatchTheLayout) {
  const TileLayout layout = make_layout(4, 4, 3, DType::uint16);  // 96 bytes
  const std::vector<std::byte> src(96);
  std::vector<std::byte> dst(95);
  expect_error<UsageError>([&] { decode_tile(compression::none, src, layout, dst); },
                           "decode buffer of 95 bytes for a tile of 96 bytes");
  expect_error<UsageError>([&] { encode_tile(compression::none, dst, layout, EncodeOptions{}); },
                           "encoding 95 bytes as a tile of 96 bytes");
}

TEST(Registry, UnsupportedPredictorsAreNamed) {
  TileLayout layout = make_layout(4, 4, 1);
  const std::vector<std::byte> src(16);
  layout.predictor = 3;
  expect_error<UnsupportedError>([&] { decode(compression::none, src, layout); },
                                 "predictor 3 (floating point) is not supported for uint8 samples");
  layout.predictor = 7;
  expect_error<UnsupportedError>([&] { decode(compression::lzw, src, layout); }, "predictor 7 is not supported");
  expect_error<UnsupportedError>([&] { encode_tile(compression::lzw, src, layout, EncodeOptions{}); },
                                 "predictor 7 is not supported");
}

TEST(Registry, UncompressedShortSourceIsAnErrorLongerIsFine) {
  const TileLayout layout = make_layout(3, 2, 1);
  expect_error<CodecError>([&] { decode(compression::none, std::vector<std::byte>(5), layout); },
                           "uncompressed data has 5 bytes, expected 6");
  expect_error<CodecError>([&] { decode(compression::none, {}, layout); }, "uncompressed data has 0 bytes, expected 6");
  EXPECT_EQ(decode(compression::none, from_hex("0102030405060708"), layout), from_hex("010203040506"));
}

TEST(Registry, EveryDecodableLosslessCodecRejectsEmptyInput) {
  const TileLayout layout = make_layout(8, 2, 1);
  const struct {
    std::uint16_t compression;
    const char* message;
  } cases[] = {
      {compression::none, "uncompressed data has 0 bytes, expected 16"},
      {compression::lzw, "LZW stream ended without EOI after 0 of 16 bytes"},
      {compression::adobe_deflate, "deflate stream truncated: decoded 0 of 16 bytes"},
      {compression::deflate, "deflate stream truncated: decoded 0 of 16 bytes"},
      {compression::packbits, "PackBits stream ended after 0 of 16 bytes"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(compression_name(c.compression));
    expect_error<CodecError>([&] { decode(c.compression, {}, layout); }, c.message);
  }
}

TEST(Registry, RandomBytesAreCodecErrors) {
  // Noise with a valid-looking start, per codec; each must be refused with a CodecError.
  const TileLayout layout = make_layout(64, 64, 1);
  std::vector<std::byte> noise = lcg_noise(300, 11);
  const struct {
    std::uint16_t compression;
    std::vector<std::byte> prefix;
    const char* message;
  } cases[] = {
      {compression::lzw, from_hex("80"), "LZW"},
      {compression::deflate, from_hex("789c"), "deflate stream"},
      {compression::jpeg, from_hex("ffd8"), "JPEG: "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(compression_name(c.compression));
    std::vector<std::byte> src = c.prefix;
    src.insert(src.end(), noise.begin(), noise.end());
    expect_error<CodecError>([&] { decode(c.compression, src, layout); }, c.message);
  }
}

TEST(Registry, JpegIgnoresThePredictorTag) {
  // libtiff applies no predictor to JPEG; a stray Predictor=2 must not garble the pixels.
  TileLayout layout = make_layout(16, 16, 1);
  const std::vector<std::byte> pixels = gradient_pixels(16, 16, 1);
  const EncodeOptions options;
  const std::vector<std::byte> tables = make_jpeg_tables(1, options);
  const std::vector<std::byte> stream = encode_tile(compression::jpeg, pixels, layout, options);
  layout.jpeg_tables = tables;
  const std::vector<std::byte> plain = decode(compression::jpeg, stream, layout);
  layout.predictor = 2;
  EXPECT_EQ(decode(compression::jpeg, stream, layout), plain);
}

}  // namespace
}  // namespace tilestream::codec::test
