// JPEG 2000 tiles (TIFF 34712, 33004, 33005; Aperio YCbCr 33003): lossless round trips over sample
// types and counts, lossy within a bound, rows into a wider image, JP2 files as well as codestreams,
// the Aperio YCbCr conversion (OpenSlide's tables and the decoder that uses them), and the errors:
// truncated and corrupt streams, other sizes, component counts and precisions.
#include "codec/jpeg2000.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "codec/codec_test_support.hpp"

namespace tilestream::codec::test {
namespace {

#if TILESTREAM_WITH_OPENJPEG

bool is_codestream(const std::vector<std::byte>& s) {
  return s.size() > 4 && s[0] == std::byte{0xff} && s[1] == std::byte{0x4f} && s[2] == std::byte{0xff} &&
         s[3] == std::byte{0x51};
}

TEST(Jpeg2000, LosslessRoundTripOfEverySampleType) {
  for (DType dtype : {DType::uint8, DType::uint16, DType::int8, DType::int16}) {
    for (std::uint32_t samples : {1u, 3u, 4u}) {
      for (const auto [width, rows] : {std::pair{37u, 21u}, std::pair{1u, 1u}, std::pair{64u, 64u}}) {
        const TileLayout layout = make_layout(width, rows, samples, dtype);
        const std::vector<std::byte> pixels = test_pixels(layout, width + samples);
        const std::vector<std::byte> stream =
            encode_tile(compression::jpeg2000, pixels, layout, EncodeOptions{});
        ASSERT_TRUE(is_codestream(stream));
        EXPECT_EQ(decode(compression::jpeg2000, stream, layout), pixels)
            << to_string(dtype) << " " << samples << " samples " << width << " x " << rows;
      }
    }
  }
}

TEST(Jpeg2000, AperioRgbAndLossyIdsDecodeComponentsAsSamples) {
  const TileLayout layout = make_layout(48, 32, 3);
  const std::vector<std::byte> pixels = test_pixels(layout, 3);
  const std::vector<std::byte> stream = encode_tile(compression::jpeg2000, pixels, layout, EncodeOptions{});
  EXPECT_EQ(decode(compression::jpeg2000_rgb, stream, layout), pixels);
  EXPECT_EQ(decode(compression::jpeg2000_lossy, stream, layout), pixels);
}

// PSNR of `decoded` against `pixels`, in dB.
double psnr(const std::vector<std::byte>& decoded, const std::vector<std::byte>& pixels) {
  double squares = 0;
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    const double d = static_cast<int>(decoded[i]) - static_cast<int>(pixels[i]);
    squares += d * d;
  }
  return 10 * std::log10(255.0 * 255.0 * static_cast<double>(pixels.size()) / std::max(squares, 1e-9));
}

// Lossy streams: smaller and closer to the pixels as the quality rises (its PSNR target, 25 + q/4 dB,
// is OpenJPEG's estimate: the measured value lands a few dB off it).
TEST(Jpeg2000, LossyQualityTradesSizeForFidelity) {
  const TileLayout layout = make_layout(64, 64, 3);
  const std::vector<std::byte> pixels = gradient_pixels(64, 64, 3);
  const std::vector<std::byte> lossless = encode_tile(compression::jpeg2000, pixels, layout, EncodeOptions{});
  double last_psnr = 0;
  std::size_t last_size = 0;
  for (int quality : {20, 60, 100}) {
    EncodeOptions options;
    options.jpeg2000_quality = quality;
    const std::vector<std::byte> stream = encode_tile(compression::jpeg2000, pixels, layout, options);
    const double measured = psnr(decode(compression::jpeg2000, stream, layout), pixels);
    EXPECT_GT(measured, last_psnr) << quality;
    EXPECT_GT(stream.size(), last_size) << quality;
    EXPECT_LT(stream.size(), lossless.size()) << quality;
    EXPECT_LT(measured, 60.0) << quality;                        // lossy
    EXPECT_GT(measured, 25.0 + quality / 4.0 - 6.0) << quality;  // near the target
    last_psnr = measured;
    last_size = stream.size();
  }
  EncodeOptions options;
  options.jpeg2000_quality = 101;
  expect_error<UsageError>([&] { encode_tile(compression::jpeg2000, pixels, layout, options); },
                           "JPEG 2000 quality must be 1 to 100 (negative: lossless), not 101");
}

TEST(Jpeg2000, RowsLandInAWiderImage) {
  for (std::uint16_t id : {compression::jpeg2000, compression::jpeg2000_ycbcr}) {
    const TileLayout layout = make_layout(32, 16, 3);
    const std::vector<std::byte> pixels = test_pixels(layout, 9);
    const std::vector<std::byte> stream = encode_tile(id, pixels, layout, EncodeOptions{});
    const std::vector<std::byte> whole = decode(id, stream, layout);
    const std::size_t row = 32 * 3, stride = row + 7;
    std::vector<std::byte> image(stride * 16, std::byte{0xee});
    decode_tile_into(id, stream, layout, image.data(), stride);
    for (std::size_t r = 0; r < 16; ++r) {
      EXPECT_EQ(std::memcmp(image.data() + r * stride, whole.data() + r * row, row), 0) << id << " row " << r;
      for (std::size_t b = row; b < stride; ++b) EXPECT_EQ(image[r * stride + b], std::byte{0xee}) << id;
    }
  }
}

// A window decodes only what it needs, its pixels those of a whole decode: generic and Aperio ids,
// lossless and lossy, windows on odd columns and rows (the Aperio chroma is subsampled 2 x 1).
TEST(Jpeg2000, WindowsEqualTheWholeTile) {
  const TileLayout layout = make_layout(128, 96, 3);
  const std::vector<std::byte> pixels = test_pixels(layout, 8);
  const TileWindow windows[] = {
      {0, 0, 128, 96}, {33, 17, 70, 60}, {1, 1, 2, 2}, {100, 80, 128, 96}, {0, 95, 127, 96}};
  for (std::uint16_t id : {compression::jpeg2000, compression::jpeg2000_ycbcr}) {
    for (int quality : {-1, 50}) {
      EncodeOptions options;
      options.jpeg2000_quality = quality;
      const std::vector<std::byte> stream = encode_tile(id, pixels, layout, options);
      const std::vector<std::byte> whole = decode(id, stream, layout);
      for (const TileWindow& w : windows) {
        std::vector<std::byte> part(whole.size(), std::byte{0x5a});
        decode_tile_window_into(id, stream, layout, w, part.data(), 128 * 3);
        for (std::uint32_t y = w.top; y < w.bottom; ++y) {
          ASSERT_EQ(std::memcmp(part.data() + (y * 128 + w.left) * 3, whole.data() + (y * 128 + w.left) * 3,
                                (w.right - w.left) * 3),
                    0)
              << id << " quality " << quality << " window " << w.left << "," << w.top << " row " << y;
        }
      }
    }
  }
}

// A JP2 file around a codestream: signature, file type, header (image header, colour) and the
// contiguous codestream box.
std::vector<std::byte> jp2_file(const std::vector<std::byte>& codestream, std::uint32_t width,
                                std::uint32_t height, unsigned components) {
  std::vector<std::byte> out;
  const auto put = [&](std::initializer_list<unsigned> bytes) {
    for (unsigned b : bytes) out.push_back(static_cast<std::byte>(b));
  };
  const auto u32 = [&](std::uint32_t v) { put({v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255}); };
  const auto tag = [&](const char* t) {
    put({unsigned(t[0]), unsigned(t[1]), unsigned(t[2]), unsigned(t[3])});
  };
  put({0, 0, 0, 12, 'j', 'P', ' ', ' ', 13, 10, 0x87, 10});
  u32(20), tag("ftyp"), tag("jp2 "), u32(0), tag("jp2 ");
  u32(8 + 22 + 15), tag("jp2h");
  u32(22), tag("ihdr"), u32(height), u32(width), put({components >> 8, components & 255u, 7, 7, 0, 0});
  u32(15), tag("colr"), put({1, 0, 0}), u32(components == 1 ? 17 : 16);
  u32(static_cast<std::uint32_t>(8 + codestream.size())), tag("jp2c");
  out.insert(out.end(), codestream.begin(), codestream.end());
  return out;
}

TEST(Jpeg2000, Jp2FilesAreReadLikeCodestreams) {
  for (std::uint32_t samples : {1u, 3u}) {
    const TileLayout layout = make_layout(40, 24, samples);
    const std::vector<std::byte> pixels = test_pixels(layout, 4);
    const std::vector<std::byte> stream = encode_tile(compression::jpeg2000, pixels, layout, EncodeOptions{});
    EXPECT_EQ(decode(compression::jpeg2000, jp2_file(stream, 40, 24, samples), layout), pixels) << samples;
  }
}

// ---- Aperio YCbCr ----

TEST(AperioYcbcr, TablesAreOpenSlides) {
  const AperioYcbcrTables& t = aperio_ycbcr_tables;
  EXPECT_EQ(t.r_cr[0], -179);
  EXPECT_EQ(t.r_cr[1], -178);
  EXPECT_EQ(t.r_cr[128], 0);
  EXPECT_EQ(t.r_cr[255], 178);
  EXPECT_EQ(t.g_cb[0], 2919624);
  EXPECT_EQ(t.g_cb[128], 32768);  // the rounding half of the G term
  EXPECT_EQ(t.g_cb[255], -2831534);
  EXPECT_EQ(t.g_cr[0], 5990641);
  EXPECT_EQ(t.g_cr[255], -5943839);
  EXPECT_EQ(t.b_cb[0], -227);
  EXPECT_EQ(t.b_cb[255], 225);
  // Every entry is the rounded real term.
  for (int i = 0; i < 256; ++i) {
    EXPECT_LE(std::abs(t.r_cr[i] - 1.402 * (i - 128)), 0.5) << i;
    EXPECT_LE(std::abs(t.b_cb[i] - 1.772 * (i - 128)), 0.5) << i;
    EXPECT_LE(std::abs(t.g_cb[i] - 65536 * (0.5 - 0.34414 * (i - 128))), 0.5) << i;
    EXPECT_LE(std::abs(t.g_cr[i] - 65536 * -0.71414 * (i - 128)), 0.5) << i;
  }
}

TEST(AperioYcbcr, PixelsFollowTheFormula) {
  std::uint8_t rgb[3];
  aperio_ycbcr_to_rgb(100, 128, 128, rgb);  // grey stays grey
  EXPECT_EQ(rgb[0], 100);
  EXPECT_EQ(rgb[1], 100);
  EXPECT_EQ(rgb[2], 100);
  aperio_ycbcr_to_rgb(250, 255, 255, rgb);  // clamped above
  EXPECT_EQ(rgb[0], 255);
  EXPECT_EQ(rgb[2], 255);
  aperio_ycbcr_to_rgb(10, 0, 0, rgb);  // clamped below, and G = 10 + ((2919624 + 5990641) >> 16) = 145
  EXPECT_EQ(rgb[0], 0);
  EXPECT_EQ(rgb[1], 145);
  EXPECT_EQ(rgb[2], 0);
  aperio_ycbcr_to_rgb(128, 100, 200,
                      rgb);  // R 128 + 101, G 128 + floor((32768 + 9.63 * 65536 - 51.42 * 65536) / 65536)
  EXPECT_EQ(rgb[0], 229);
  EXPECT_EQ(rgb[1], 86);
  EXPECT_EQ(rgb[2], 78);
}

TEST(AperioYcbcr, DecoderConvertsTheComponentsWithSubsampledChroma) {
  const TileLayout layout = make_layout(64, 32, 3);
  const std::vector<std::byte> pixels = gradient_pixels(64, 32, 3);
  const std::vector<std::byte> stream =
      encode_tile(compression::jpeg2000_ycbcr, pixels, layout, EncodeOptions{});
  // The same codestream read as plain components: Y, and Cb, Cr widened over each pair of pixels.
  const std::vector<std::byte> ycbcr = decode(compression::jpeg2000, stream, layout);
  const std::vector<std::byte> rgb = decode(compression::jpeg2000_ycbcr, stream, layout);
  int worst = 0;
  for (std::size_t p = 0; p < 64 * 32; ++p) {
    const auto* c = reinterpret_cast<const std::uint8_t*>(ycbcr.data()) + 3 * p;
    if (p % 2 == 1) {
      EXPECT_EQ(c[1], c[-2]) << p;  // Cb of the pair
      EXPECT_EQ(c[2], c[-1]) << p;  // Cr of the pair
    }
    std::uint8_t want[3];
    aperio_ycbcr_to_rgb(c[0], c[1], c[2], want);
    for (int s = 0; s < 3; ++s) {
      EXPECT_EQ(static_cast<std::uint8_t>(rgb[3 * p + s]), want[s]) << p;
      worst =
          std::max(worst, std::abs(static_cast<int>(rgb[3 * p + s]) - static_cast<int>(pixels[3 * p + s])));
    }
  }
  EXPECT_LE(worst, 3);  // the gradient's colour barely changes between two pixels
}

TEST(AperioYcbcr, LayoutsOtherThanThreeBytesAreRefused) {
  const TileLayout gray = make_layout(16, 16, 1);
  const std::vector<std::byte> pixels(gray.decoded_bytes());
  expect_error<UnsupportedError>(
      [&] { encode_tile(compression::jpeg2000_ycbcr, pixels, gray, EncodeOptions{}); },
      "Aperio YCbCr JPEG 2000 tiles hold 3 uint8 samples, not 1 uint8");
  const TileLayout rgb = make_layout(16, 16, 3);
  const std::vector<std::byte> stream =
      encode_tile(compression::jpeg2000, std::vector<std::byte>(rgb.decoded_bytes()), rgb, EncodeOptions{});
  expect_error<UnsupportedError>([&] { decode(compression::jpeg2000_ycbcr, stream, gray); },
                                 "hold 3 uint8 samples, not 1 uint8");
  const TileLayout odd = make_layout(17, 16, 3);
  expect_error<UsageError>(
      [&] {
        encode_tile(compression::jpeg2000_ycbcr, std::vector<std::byte>(odd.decoded_bytes()), odd,
                    EncodeOptions{});
      },
      "the width must be even, not 17");
}

// ---- errors ----

TEST(Jpeg2000, TruncatedAndCorruptStreamsFail) {
  const TileLayout layout = make_layout(64, 64, 3);
  const std::vector<std::byte> pixels = test_pixels(layout, 2);
  const std::vector<std::byte> stream = encode_tile(compression::jpeg2000, pixels, layout, EncodeOptions{});
  const std::vector<std::byte> truncated(stream.begin(),
                                         stream.begin() + static_cast<std::ptrdiff_t>(stream.size() * 2 / 3));
  const std::string message = expect_error<CodecError>(
      [&] { decode(compression::jpeg2000, truncated, layout); }, "J2K codestream of ");
  EXPECT_NE(message.find("is corrupt or truncated (OpenJPEG"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  const std::vector<std::byte> header_only(stream.begin(), stream.begin() + 20);
  expect_error<CodecError>([&] { decode(compression::jpeg2000, header_only, layout); },
                           "J2K codestream of 20 bytes: its header is corrupt or truncated");
  // Noise after the SIZ marker segment (51 bytes with 3 components), where the next marker belongs.
  // (Noise inside the packet data is often not detected: JPEG 2000 carries no checksums.)
  std::vector<std::byte> corrupt = stream;
  const std::vector<std::byte> noise = lcg_noise(corrupt.size() - 51, 5);
  std::copy(noise.begin(), noise.end(), corrupt.begin() + 51);
  expect_error<CodecError>(
      [&] { decode(compression::jpeg2000, corrupt, layout); },
      concat("J2K codestream of ", corrupt.size(), " bytes: its header is corrupt or truncated (OpenJPEG: "));
  expect_error<CodecError>([&] { decode(compression::jpeg2000, to_bytes("RIFF....WEBP"), layout); },
                           "neither a J2K codestream (FF 4F FF 51) nor a JP2 file: it starts 52 49 46 46");
  expect_error<CodecError>([&] { decode(compression::jpeg2000_ycbcr, std::vector<std::byte>{}, layout); },
                           "JPEG 2000 tile of 0 bytes is neither");
}

TEST(Jpeg2000, StreamsThatDisagreeWithTheTileAreRefused) {
  const TileLayout layout = make_layout(32, 32, 3);
  const std::vector<std::byte> stream =
      encode_tile(compression::jpeg2000, test_pixels(layout, 1), layout, EncodeOptions{});
  expect_error<CodecError>([&] { decode(compression::jpeg2000, stream, make_layout(32, 16, 3)); },
                           "J2K codestream of 32 x 32 pixels at (0, 0) in a tile of 32 x 16");
  expect_error<CodecError>([&] { decode(compression::jpeg2000, stream, make_layout(32, 32, 1)); },
                           "J2K codestream with 3 components in a tile of 1 sample per pixel");
  const TileLayout wide = make_layout(32, 32, 1, DType::uint16);
  const std::vector<std::byte> sixteen =
      encode_tile(compression::jpeg2000, test_pixels(wide, 1), wide, EncodeOptions{});
  expect_error<CodecError>([&] { decode(compression::jpeg2000, sixteen, make_layout(32, 32, 1)); },
                           "component 0 holds 16-bit unsigned samples, the tile 8-bit ones");
  // Signed components land as two's complement: an int8 codestream read as the readers pass it (uint8,
  // the storage type) gives the int8 bytes.
  const TileLayout signed_layout = make_layout(32, 32, 1, DType::int8);
  const std::vector<std::byte> signed_pixels = test_pixels(signed_layout, 1);
  const std::vector<std::byte> signed_stream =
      encode_tile(compression::jpeg2000, signed_pixels, signed_layout, EncodeOptions{});
  EXPECT_EQ(decode(compression::jpeg2000, signed_stream, make_layout(32, 32, 1)), signed_pixels);
  // 8-bit components in a 16-bit tile are read as they are (a TIFF may say more bits than it uses).
  const TileLayout narrow = make_layout(32, 32, 1);
  const std::vector<std::byte> eight = test_pixels(narrow, 6);
  const std::vector<std::byte> decoded =
      decode(compression::jpeg2000, encode_tile(compression::jpeg2000, eight, narrow, EncodeOptions{}), wide);
  for (std::size_t i = 0; i < eight.size(); ++i) {
    ASSERT_EQ(decoded[2 * i], eight[i]) << i;
    ASSERT_EQ(decoded[2 * i + 1], std::byte{0}) << i;
  }
  // The Aperio YCbCr codestream (chroma at half width) read as a tile of another width.
  const std::vector<std::byte> aperio =
      encode_tile(compression::jpeg2000_ycbcr, test_pixels(layout, 1), layout, EncodeOptions{});
  expect_error<CodecError>([&] { decode(compression::jpeg2000_ycbcr, aperio, make_layout(31, 32, 3)); },
                           "of 32 x 32 pixels at (0, 0) in a tile of 31 x 32");
}

TEST(Jpeg2000, FloatSamplesAreRefused) {
  const TileLayout layout = make_layout(8, 8, 1, DType::float32);
  const std::vector<std::byte> pixels(layout.decoded_bytes());
  expect_error<UnsupportedError>([&] { encode_tile(compression::jpeg2000, pixels, layout, EncodeOptions{}); },
                                 "JPEG 2000 tiles of float32 samples are not supported");
  expect_error<UnsupportedError>([&] { decode(compression::jpeg2000, pixels, layout); },
                                 "JPEG 2000 tiles of float32 samples are not supported");
}

#else

TEST(Jpeg2000, ABuildWithoutOpenJpegNamesIt) {
  const TileLayout layout = make_layout(4, 4, 3);
  expect_error<UnsupportedError>([&] { decode(compression::jpeg2000, std::vector<std::byte>(8), layout); },
                                 "this build has no OpenJPEG (Debian: libopenjp2-7-dev)");
}

#endif

}  // namespace
}  // namespace tilestream::codec::test
