// JPEG: abbreviated streams with JPEGTables, colour handling, layout checks and corrupt data.
#include "codec/jpeg.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

int max_abs_diff(const std::vector<std::byte>& a, const std::vector<std::byte>& b) {
  EXPECT_EQ(a.size(), b.size());
  int worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, std::abs(std::to_integer<int>(a[i]) - std::to_integer<int>(b[i])));
  }
  return worst;
}

struct JpegCase {
  const char* name;
  std::uint32_t samples;
  bool ycbcr;
  std::uint32_t width;
  std::uint32_t rows;
  int quality;
  int max_error;  // bound on |decoded - original| for a smooth gradient
};

class JpegRoundTrip : public testing::TestWithParam<JpegCase> {};

TEST_P(JpegRoundTrip, DecodesCloseToTheOriginal) {
  const JpegCase& c = GetParam();
  TileLayout layout = make_layout(c.width, c.rows, c.samples);
  layout.photometric = c.samples == 1 ? photometric::min_is_black : c.ycbcr ? photometric::ycbcr : photometric::rgb;
  EncodeOptions options;
  options.jpeg_quality = c.quality;
  options.jpeg_ycbcr = c.ycbcr;
  const std::vector<std::byte> pixels = gradient_pixels(c.width, c.rows, c.samples);
  const std::vector<std::byte> stream = encode_tile(compression::jpeg, pixels, layout, options);
  const std::vector<std::byte> tables = make_jpeg_tables(c.samples, options);
  // Abbreviated: SOI, no DQT (0xFFDB) in the tile; the tables stream is SOI ... EOI with DQT.
  ASSERT_GE(stream.size(), 4u);
  EXPECT_EQ(stream[0], std::byte{0xff});
  EXPECT_EQ(stream[1], std::byte{0xd8});
  EXPECT_EQ(std::search(stream.begin(), stream.end(), tables.begin() + 2, tables.begin() + 4), stream.end());
  ASSERT_GE(tables.size(), 4u);
  EXPECT_EQ(tables[2], std::byte{0xff});
  EXPECT_EQ(tables[3], std::byte{0xdb});
  EXPECT_EQ(tables[tables.size() - 1], std::byte{0xd9});

  layout.jpeg_tables = tables;
  const std::vector<std::byte> decoded = decode(compression::jpeg, stream, layout);
  EXPECT_LE(max_abs_diff(decoded, pixels), c.max_error);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JpegRoundTrip,
    testing::Values(JpegCase{"gray_q95", 1, false, 64, 48, 95, 4}, JpegCase{"rgb_q95", 3, false, 64, 48, 95, 6},
                    JpegCase{"ycbcr_q95", 3, true, 64, 48, 95, 8}, JpegCase{"ycbcr_q95_odd", 3, true, 17, 5, 95, 8},
                    JpegCase{"gray_q75_odd", 1, false, 33, 9, 75, 16}, JpegCase{"ycbcr_q50", 3, true, 256, 256, 50, 24}),
    [](const testing::TestParamInfo<JpegCase>& param) { return std::string(param.param.name); });

struct Fixture {
  TileLayout layout = make_layout(64, 32, 3);
  EncodeOptions options;
  std::vector<std::byte> pixels = gradient_pixels(64, 32, 3);
  std::vector<std::byte> stream;
  std::vector<std::byte> tables;
  Fixture() {
    options.jpeg_quality = 95;
    layout.photometric = photometric::ycbcr;
    stream = encode_tile(compression::jpeg, pixels, layout, options);
    tables = make_jpeg_tables(3, options);
    layout.jpeg_tables = tables;
  }
};

TEST(Jpeg, AbbreviatedStreamWithoutTablesFails) {
  Fixture f;
  f.layout.jpeg_tables = {};
  expect_error<CodecError>([&] { decode(compression::jpeg, f.stream, f.layout); },
                           "JPEG: Quantization table 0x00 was not defined");
}

TEST(Jpeg, YCbCrDataReadAsRgbDiffers) {
  // Photometric decides the colour transform: the same stream read as RGB gives other pixels.
  Fixture f;
  f.layout.photometric = photometric::rgb;
  EXPECT_GT(max_abs_diff(decode(compression::jpeg, f.stream, f.layout), f.pixels), 30);
}

TEST(Jpeg, FullStreamWithoutTablesTagDecodes) {
  // Tables + tile spliced (tables without EOI, tile without SOI) make an ordinary interchange stream.
  Fixture f;
  std::vector<std::byte> full(f.tables.begin(), f.tables.end() - 2);
  full.insert(full.end(), f.stream.begin() + 2, f.stream.end());
  f.layout.jpeg_tables = {};
  EXPECT_LE(max_abs_diff(decode(compression::jpeg, full, f.layout), f.pixels), 8);
}

TEST(Jpeg, FrameTallerThanTheStripDecodesItsFirstRows) {
  // The last strip of a stripped image may hold fewer rows than its JPEG frame.
  Fixture f;
  TileLayout strip = f.layout;
  strip.rows = 20;
  const std::vector<std::byte> decoded = decode(compression::jpeg, f.stream, strip);
  const std::vector<std::byte> first_rows(f.pixels.begin(), f.pixels.begin() + 20 * 64 * 3);
  EXPECT_LE(max_abs_diff(decoded, first_rows), 8);
}

TEST(Jpeg, FrameThatDoesNotMatchTheLayoutIsAnError) {
  Fixture f;
  TileLayout wider = f.layout;
  wider.width = 65;
  expect_error<CodecError>([&] { decode(compression::jpeg, f.stream, wider); },
                           "JPEG frame is 64 x 32 x 3, the tile is 65 x 32 x 3");
  TileLayout taller = f.layout;
  taller.rows = 33;
  expect_error<CodecError>([&] { decode(compression::jpeg, f.stream, taller); },
                           "JPEG frame is 64 x 32 x 3, the tile is 64 x 33 x 3");
  TileLayout gray = f.layout;
  gray.samples = 1;
  expect_error<CodecError>([&] { decode(compression::jpeg, f.stream, gray); },
                           "JPEG has 3 components, the tile has 1 samples per pixel");
}

TEST(Jpeg, TruncatedStreamIsAnError) {
  Fixture f;
  std::vector<std::byte> cut(f.stream.begin(), f.stream.begin() + static_cast<std::ptrdiff_t>(f.stream.size() / 2));
  // libjpeg would fill the rest with grey and warn; we turn the warning into an error.
  expect_error<CodecError>([&] { decode(compression::jpeg, cut, f.layout); }, "Premature end of JPEG file");
}

TEST(Jpeg, EmptyAndRandomInputAreErrors) {
  Fixture f;
  expect_error<CodecError>([&] { decode(compression::jpeg, {}, f.layout); }, "JPEG: Empty input file");
  expect_error<CodecError>([&] { decode(compression::jpeg, lcg_noise(500, 3), f.layout); },
                           "Not a JPEG file: starts with 0x");
}

TEST(Jpeg, CorruptEntropyDataIsAnError) {
  Fixture f;
  std::vector<std::byte> bad = f.stream;
  // Overwrite the middle of the entropy-coded data with a marker-like pattern.
  for (std::size_t i = bad.size() / 2; i < bad.size() / 2 + 8; ++i) bad[i] = std::byte{0xff};
  expect_error<CodecError>([&] { decode(compression::jpeg, bad, f.layout); }, "JPEG: ");
}

TEST(Jpeg, TablesThatAreNotTablesOnlyAreAnError) {
  Fixture f;
  std::vector<std::byte> full(f.tables.begin(), f.tables.end() - 2);
  full.insert(full.end(), f.stream.begin() + 2, f.stream.end());
  f.layout.jpeg_tables = full;
  expect_error<CodecError>([&] { decode(compression::jpeg, f.stream, f.layout); },
                           "JPEGTables is not a tables-only JPEG stream");
}

TEST(Jpeg, SixteenBitIsUnsupported) {
  TileLayout layout = make_layout(8, 8, 1, DType::uint16);
  const std::vector<std::byte> stream(16);
  expect_error<UnsupportedError>([&] { decode(compression::jpeg, stream, layout); },
                                 "JPEG with uint16 samples is not supported (8-bit only)");
  expect_error<UnsupportedError>(
      [&] { encode_tile(compression::jpeg, std::vector<std::byte>(128), layout, EncodeOptions{}); },
      "JPEG encoding of uint16 samples is not supported");
}

TEST(Jpeg, TwelveBitIsUnsupported) {
  // Patch the precision byte of the SOF0 marker (FFC0, length, precision) to 12.
  Fixture f;
  std::vector<std::byte> twelve = f.stream;
  const std::vector<std::byte> sof = from_hex("ffc0");
  auto at = std::search(twelve.begin(), twelve.end(), sof.begin(), sof.end());
  ASSERT_NE(at, twelve.end());
  at[4] = std::byte{12};
  expect_error<UnsupportedError>([&] { decode(compression::jpeg, twelve, f.layout); },
                                 "Unsupported JPEG data precision 12");
}

TEST(Jpeg, EncoderRejectsFourSamplesAndBadQuality) {
  const TileLayout four = make_layout(8, 8, 4);
  expect_error<UnsupportedError>(
      [&] { encode_tile(compression::jpeg, std::vector<std::byte>(256), four, EncodeOptions{}); },
      "JPEG encoding of 4 samples per pixel is not supported");
  EncodeOptions bad;
  bad.jpeg_quality = 0;
  expect_error<UsageError>([&] { make_jpeg_tables(3, bad); }, "JPEG quality must be 1..100, not 0");
}

}  // namespace
}  // namespace tilestream::codec::test

namespace tilestream::codec::test {
namespace {

// decode_tile_window_into decodes only the blocks around a window (cropped columns, skipped rows, the
// rows below left alone), and the window's pixels equal a full decode's, whatever the subsampling.
struct WindowCase {
  const char* name;
  std::uint32_t samples;
  bool ycbcr;  // 2x2-subsampled YCbCr (fancy upsampling reads neighbouring blocks), else RGB / grey
  std::uint32_t width, rows;
};

class JpegWindow : public testing::TestWithParam<WindowCase> {};

TEST_P(JpegWindow, TheWindowEqualsAFullDecode) {
  const WindowCase& c = GetParam();
  TileLayout layout = make_layout(c.width, c.rows, c.samples);
  layout.photometric = c.samples == 1 ? photometric::min_is_black : c.ycbcr ? photometric::ycbcr : photometric::rgb;
  EncodeOptions options;
  options.jpeg_quality = 80;
  options.jpeg_ycbcr = c.ycbcr;
  const std::vector<std::byte> stream = encode_tile(compression::jpeg, test_pixels(layout, 3), layout, options);
  const std::vector<std::byte> tables = make_jpeg_tables(c.samples, options);
  layout.jpeg_tables = tables;
  const std::vector<std::byte> full = decode(compression::jpeg, stream, layout);
  const std::size_t row = std::size_t{c.width} * c.samples;
  std::uint32_t state = 12345;
  const auto next = [&state](std::uint32_t bound) {
    state = state * 1103515245u + 12345u;
    return (state >> 8) % bound;
  };
  std::vector<TileWindow> windows = {{0, 0, c.width, c.rows}, {c.width - 1, c.rows - 1, c.width, c.rows}, {0, 0, 1, 1},
                                     {17, 33, 18, 34}, {c.width / 2, 0, c.width, c.rows / 2}};
  for (int k = 0; k < 60; ++k) {
    const std::uint32_t left = next(c.width), top = next(c.rows);
    windows.push_back({left, top, left + 1 + next(c.width - left), top + 1 + next(c.rows - top)});
  }
  for (const TileWindow& w : windows) {
    std::vector<std::byte> got(full.size(), std::byte{0x5a});
    decode_tile_window_into(compression::jpeg, stream, layout, w, got.data(), row);
    std::size_t differ = 0;
    for (std::uint32_t y = w.top; y < w.bottom; ++y)
      differ += !std::equal(full.begin() + y * row + w.left * c.samples, full.begin() + y * row + w.right * c.samples,
                            got.begin() + y * row + w.left * c.samples);
    EXPECT_EQ(differ, 0u) << "window " << w.left << "-" << w.right << " x " << w.top << "-" << w.bottom;
    if (w.bottom + 32 <= c.rows)  // rows well below the window are not decoded
      EXPECT_EQ(got[(c.rows - 1) * row], std::byte{0x5a});
  }
  std::vector<std::byte> got(full.size());
  EXPECT_THROW(decode_tile_window_into(compression::jpeg, stream, layout, {5, 5, 5, 9}, got.data(), row), UsageError);
  EXPECT_THROW(decode_tile_window_into(compression::jpeg, stream, layout, {0, 0, c.width + 1, 1}, got.data(), row),
               UsageError);
}

INSTANTIATE_TEST_SUITE_P(Cases, JpegWindow,
                         testing::Values(WindowCase{"ycbcr_256", 3, true, 256, 256},
                                         WindowCase{"ycbcr_240", 3, true, 240, 240},
                                         WindowCase{"rgb_256", 3, false, 256, 256},
                                         WindowCase{"grey_192x128", 1, false, 192, 128},
                                         WindowCase{"ycbcr_strip_1000x72", 3, true, 1000, 72}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace tilestream::codec::test
