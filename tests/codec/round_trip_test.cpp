// encode_tile then decode_tile is the identity for every lossless codec, sample type, sample count,
// predictor and byte order, on tile sizes that are not multiples of anything.
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

struct RoundTripCase {
  std::uint16_t compression;
  DType dtype;
  std::uint32_t samples;
  std::uint16_t predictor;
  bool big_endian;
  std::uint32_t width;
  std::uint32_t rows;
};

std::string case_name(const testing::TestParamInfo<RoundTripCase>& info) {
  const RoundTripCase& c = info.param;
  std::string name = compression_name(c.compression);
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';  // "JPEG 2000 (Aperio RGB)"
  }
  return concat(name, "_", to_string(c.dtype), "_s", c.samples, "_p", c.predictor, c.big_endian ? "_be" : "_le",
                "_", c.width, "x", c.rows);
}

std::vector<RoundTripCase> all_cases() {
  std::vector<RoundTripCase> cases;
  std::vector<std::uint16_t> lossless = {compression::none,    compression::lzw,      compression::adobe_deflate,
                                         compression::deflate, compression::packbits, compression::zstd};
  if (is_supported(compression::lzma)) lossless.push_back(compression::lzma);
  const std::uint32_t sizes[][2] = {{17, 5}, {1, 1}, {64, 64}, {255, 3}};
  for (std::uint16_t compression : lossless) {
    for (DType dtype : {DType::uint8, DType::uint16, DType::uint32}) {
      for (std::uint32_t samples : {1u, 3u, 4u}) {
        for (std::uint16_t predictor : {std::uint16_t{1}, std::uint16_t{2}}) {
          for (bool big_endian : {false, true}) {
            for (const auto& size : sizes) {
              cases.push_back({compression, dtype, samples, predictor, big_endian, size[0], size[1]});
            }
          }
        }
      }
    }
    // float32 and float16 samples: as they are, horizontally differenced as integers of their width,
    // and through the floating-point predictor's byte planes; both byte orders.
    for (DType dtype : {DType::float32, DType::float16}) {
      for (std::uint32_t samples : {1u, 3u}) {
        for (std::uint16_t predictor : {std::uint16_t{1}, std::uint16_t{2}, std::uint16_t{3}}) {
          for (bool big_endian : {false, true}) {
            for (const auto& size : sizes) {
              cases.push_back({compression, dtype, samples, predictor, big_endian, size[0], size[1]});
            }
          }
        }
      }
    }
  }
  // JPEG 2000, lossless (reversible 5/3): every integer type, the generic and Aperio RGB ids (image
  // codecs: no predictor, no byte order).
  if (is_supported(compression::jpeg2000)) {
    for (std::uint16_t compression : {compression::jpeg2000, compression::jpeg2000_rgb}) {
      for (DType dtype : {DType::uint8, DType::uint16, DType::int8, DType::int16}) {
        for (std::uint32_t samples : {1u, 3u, 4u}) {
          if (compression == compression::jpeg2000_rgb && samples != 3) continue;
          for (const auto& size : sizes) cases.push_back({compression, dtype, samples, 1, false, size[0], size[1]});
        }
      }
    }
  }
  return cases;
}

class LosslessRoundTrip : public testing::TestWithParam<RoundTripCase> {};

TEST_P(LosslessRoundTrip, DecodeOfEncodeIsIdentity) {
  const RoundTripCase& c = GetParam();
  const TileLayout layout = make_layout(c.width, c.rows, c.samples, c.dtype, c.predictor, c.big_endian);
  const std::vector<std::byte> pixels = test_pixels(layout, c.width * 31 + c.rows);
  const std::vector<std::byte> encoded = encode_tile(c.compression, pixels, layout, EncodeOptions{});
  if (c.compression == compression::none && c.predictor == 1) {
    const std::size_t width = bytes_per_sample(c.dtype);
    ASSERT_EQ(encoded.size(), pixels.size());
    EXPECT_EQ(encoded[0], c.big_endian ? pixels[width - 1] : pixels[0]);  // big-endian files: high byte first
  }
  EXPECT_EQ(decode(c.compression, encoded, layout), pixels);
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, LosslessRoundTrip, testing::ValuesIn(all_cases()), case_name);

TEST(LosslessRoundTrip, LzwAcrossSeveralClearCodes) {
  // 600 KB of noise needs a ClearCode every ~3800 codes: dozens of table resets.
  const TileLayout layout = make_layout(1000, 200, 3);
  const std::vector<std::byte> pixels = lcg_noise(layout.decoded_bytes(), 99);
  const std::vector<std::byte> encoded = encode_tile(compression::lzw, pixels, layout, EncodeOptions{});
  EXPECT_GT(encoded.size(), pixels.size());  // noise does not compress: LZW expands it a little
  EXPECT_EQ(decode(compression::lzw, encoded, layout), pixels);
}

TEST(LosslessRoundTrip, ConstantTileCompressesWell) {
  const TileLayout layout = make_layout(256, 256, 3);
  const std::vector<std::byte> pixels(layout.decoded_bytes(), std::byte{200});
  for (std::uint16_t compression : {compression::lzw, compression::deflate, compression::packbits}) {
    const std::vector<std::byte> encoded = encode_tile(compression, pixels, layout, EncodeOptions{});
    EXPECT_LT(encoded.size(), pixels.size() / 20) << compression_name(compression);
    EXPECT_EQ(decode(compression, encoded, layout), pixels) << compression_name(compression);
  }
}

}  // namespace
}  // namespace tilestream::codec::test
