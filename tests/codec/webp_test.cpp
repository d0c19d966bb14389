// WebP tiles (TIFF 50001): lossless round trips of RGB and RGBA, lossy within a bound, rows into a
// wider image, and the errors: other samples, a stream of another size, truncated and corrupt streams.
#include "codec/webp.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

#if TILESTREAM_WITH_WEBP

TEST(WebP, LosslessRoundTripOfRgbAndRgba) {
  for (std::uint32_t samples : {3u, 4u}) {
    const TileLayout layout = make_layout(37, 21, samples);
    const std::vector<std::byte> pixels = test_pixels(layout, 5);
    const std::vector<std::byte> stream = encode_tile(compression::webp, pixels, layout, EncodeOptions{});
    ASSERT_GE(stream.size(), 12u);
    EXPECT_EQ(std::memcmp(stream.data(), "RIFF", 4), 0);
    EXPECT_EQ(decode(compression::webp, stream, layout), pixels) << samples << " samples";
  }
}

TEST(WebP, LossyIsCloseToThePixels) {
  const TileLayout layout = make_layout(64, 64, 3);
  const std::vector<std::byte> pixels = gradient_pixels(64, 64, 3);
  EncodeOptions options;
  options.webp_quality = 90;
  const std::vector<std::byte> decoded =
      decode(compression::webp, encode_tile(compression::webp, pixels, layout, options), layout);
  ASSERT_EQ(decoded.size(), pixels.size());
  double total = 0;
  for (std::size_t i = 0; i < pixels.size(); ++i)
    total += std::abs(static_cast<int>(decoded[i]) - static_cast<int>(pixels[i]));
  EXPECT_LT(total / static_cast<double>(pixels.size()), 4.0);
}

TEST(WebP, RowsGoIntoAWiderImage) {
  const TileLayout layout = make_layout(16, 8, 3);
  const std::vector<std::byte> pixels = test_pixels(layout, 9);
  const std::vector<std::byte> stream = encode_tile(compression::webp, pixels, layout, EncodeOptions{});
  const std::size_t row = 16 * 3, stride = row + 10;
  std::vector<std::byte> image(stride * 8, std::byte{0xAB});
  decode_tile_into(compression::webp, stream, layout, image.data(), stride);
  for (std::size_t r = 0; r < 8; ++r) {
    EXPECT_EQ(std::memcmp(image.data() + r * stride, pixels.data() + r * row, row), 0) << "row " << r;
    EXPECT_EQ(image[r * stride + row], std::byte{0xAB}) << "row " << r << " wrote past its pixels";
  }
}

TEST(WebP, OtherSamplesAreUnsupported) {
  const TileLayout gray = make_layout(8, 8, 1);
  expect_error<UnsupportedError>(
      [&] { encode_tile(compression::webp, test_pixels(gray), gray, EncodeOptions{}); },
      "WebP tiles hold 8-bit RGB or RGBA, not 1 uint8 sample per pixel");
  const TileLayout wide = make_layout(8, 8, 3, DType::uint16);
  expect_error<UnsupportedError>([&] { decode(compression::webp, std::vector<std::byte>(64), wide); },
                                 "not 3 uint16 samples per pixel");
}

TEST(WebP, StreamOfAnotherSizeIsAnError) {
  const TileLayout small = make_layout(8, 8, 3);
  const std::vector<std::byte> stream =
      encode_tile(compression::webp, test_pixels(small), small, EncodeOptions{});
  expect_error<CodecError>([&] { decode(compression::webp, stream, make_layout(16, 8, 3)); },
                           "WebP image of 8 x 8 in a tile of 16 x 8");
}

TEST(WebP, TruncatedAndCorruptStreamsAreErrors) {
  const TileLayout layout = make_layout(64, 64, 3);
  std::vector<std::byte> stream =
      encode_tile(compression::webp, lcg_noise(64 * 64 * 3, 3), layout, EncodeOptions{});
  std::vector<std::byte> half(stream.begin(),
                              stream.begin() + static_cast<std::ptrdiff_t>(stream.size() / 2));
  expect_error<CodecError>([&] { decode(compression::webp, half, layout); },
                           "WebP stream is corrupt or truncated");
  expect_error<CodecError>([&] { decode(compression::webp, to_bytes("garbage! garbage! garbage!"), layout); },
                           "WebP stream is corrupt or truncated");
}

TEST(WebP, BadQualityIsAUsageError) {
  const TileLayout layout = make_layout(4, 4, 3);
  EncodeOptions options;
  options.webp_quality = 101;
  expect_error<UsageError>([&] { encode_tile(compression::webp, test_pixels(layout), layout, options); },
                           "WebP quality must be 0 to 100");
}

#else

// A build without libwebp knows the compression and says what it lacks.
TEST(WebP, ThisBuildNamesTheMissingLibrary) {
  const TileLayout layout = make_layout(4, 4, 3);
  EXPECT_FALSE(is_supported(compression::webp));
  expect_error<UnsupportedError>([&] { decode(compression::webp, std::vector<std::byte>(16), layout); },
                                 "this build has no libwebp");
}

#endif  // TILESTREAM_WITH_WEBP

}  // namespace
}  // namespace tilestream::codec::test
