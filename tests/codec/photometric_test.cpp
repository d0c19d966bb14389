// The photometric table: what each converter makes of stored samples (values checked against
// libtiff's RGBA rules, which OpenSlide renders through), and the layouts each one refuses.
#include "tilestream/codec/photometric.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

template <class T>
std::vector<std::byte> bytes_of(const std::vector<T>& values) {
  std::vector<std::byte> out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

StoredPixels stored(std::uint16_t photometric, std::uint32_t samples, DType dtype) {
  StoredPixels s;
  s.photometric = photometric;
  s.samples = samples;
  s.dtype = dtype;
  return s;
}

std::vector<std::byte> convert(const PixelConversion& c, const std::vector<std::byte>& src) {
  const std::size_t pixels = src.size() / c.stored_pixel_bytes();
  std::vector<std::byte> out(pixels * c.pixel_bytes());
  convert_pixels(c, src.data(), out.data(), pixels);
  return out;
}

// A 2^bits-entry ColorMap: entry i is (r(i), g(i), b(i)), red values first.
std::vector<std::uint64_t> color_map(std::size_t entries, std::uint64_t (*value)(std::size_t i, std::size_t s)) {
  std::vector<std::uint64_t> map(3 * entries);
  for (std::size_t s = 0; s < 3; ++s)
    for (std::size_t i = 0; i < entries; ++i) map[s * entries + i] = value(i, s);
  return map;
}

TEST(Photometric, IdentityForGreyAndRgb) {
  for (const std::uint16_t p : {photometric::min_is_black, photometric::rgb}) {
    const PixelConversion c = plan_conversion(stored(p, 3, DType::uint16));
    EXPECT_TRUE(c.identity()) << p;
    EXPECT_EQ(c.samples, 3u);
    EXPECT_EQ(c.dtype, DType::uint16);
  }
  StoredPixels jpeg = stored(photometric::ycbcr, 3, DType::uint8);
  jpeg.compression = compression::jpeg;
  EXPECT_TRUE(plan_conversion(jpeg).identity());  // the JPEG decoder makes RGB
}

TEST(Photometric, MinIsWhiteInverts) {
  const PixelConversion c8 = plan_conversion(stored(photometric::min_is_white, 1, DType::uint8));
  EXPECT_FALSE(c8.identity());
  EXPECT_EQ(c8.samples, 1u);
  EXPECT_EQ(c8.dtype, DType::uint8);
  EXPECT_EQ(convert(c8, bytes_of<std::uint8_t>({0, 1, 100, 254, 255})), bytes_of<std::uint8_t>({255, 254, 155, 1, 0}));
  const PixelConversion c16 = plan_conversion(stored(photometric::min_is_white, 1, DType::uint16));
  EXPECT_EQ(c16.dtype, DType::uint16);
  EXPECT_EQ(convert(c16, bytes_of<std::uint16_t>({0, 300, 65535})), bytes_of<std::uint16_t>({65535, 65235, 0}));
}

TEST(Photometric, PaletteWithSixteenBitMapGivesHighBytes) {
  StoredPixels s = stored(photometric::palette, 1, DType::uint8);
  const auto map = color_map(256, [](std::size_t i, std::size_t ch) -> std::uint64_t {
    return (i * 257 + ch * 1000 + 0x7f) & 0xffff;  // low bytes that rounding would notice
  });
  s.color_map = map;
  const PixelConversion c = plan_conversion(s);
  EXPECT_EQ(c.samples, 3u);
  EXPECT_EQ(c.dtype, DType::uint8);
  const std::vector<std::byte> out = convert(c, bytes_of<std::uint8_t>({0, 7, 255}));
  std::vector<std::uint8_t> expected;
  for (const std::size_t i : {0u, 7u, 255u})
    for (std::size_t ch = 0; ch < 3; ++ch) expected.push_back(static_cast<std::uint8_t>(map[ch * 256 + i] >> 8));
  EXPECT_EQ(out, bytes_of(expected));
}

TEST(Photometric, PaletteWithEightBitValuesIsTakenAsIs) {
  StoredPixels s = stored(photometric::palette, 1, DType::uint8);
  const auto map = color_map(256, [](std::size_t i, std::size_t ch) -> std::uint64_t { return (i + 50 * ch) % 256; });
  s.color_map = map;
  const std::vector<std::byte> out = convert(plan_conversion(s), bytes_of<std::uint8_t>({3}));
  EXPECT_EQ(out, bytes_of<std::uint8_t>({3, 53, 103}));
}

TEST(Photometric, PaletteWithSixteenBitIndices) {
  StoredPixels s = stored(photometric::palette, 1, DType::uint16);
  const auto map = color_map(65536, [](std::size_t i, std::size_t ch) -> std::uint64_t { return (i + ch) & 0xffff; });
  s.color_map = map;
  const std::vector<std::byte> out = convert(plan_conversion(s), bytes_of<std::uint16_t>({0x1234}));
  EXPECT_EQ(out, bytes_of<std::uint8_t>({0x12, 0x12, 0x12}));
}

TEST(Photometric, CmykAsLibtiffComputesIt) {
  StoredPixels s = stored(photometric::separated, 5, DType::uint8);  // a fifth (extra) sample is dropped
  const PixelConversion c = plan_conversion(s);
  EXPECT_EQ(c.samples, 3u);
  const std::vector<std::byte> out =
      convert(c, bytes_of<std::uint8_t>({0, 0, 0, 0, 9, 255, 128, 10, 0, 9, 10, 20, 30, 40, 9}));
  auto rgb = [](unsigned c, unsigned m, unsigned y, unsigned k) {
    const unsigned kk = 255 - k;
    return std::vector<std::uint8_t>{static_cast<std::uint8_t>(kk * (255 - c) / 255),
                                     static_cast<std::uint8_t>(kk * (255 - m) / 255),
                                     static_cast<std::uint8_t>(kk * (255 - y) / 255)};
  };
  std::vector<std::uint8_t> expected;
  for (const auto& px : {rgb(0, 0, 0, 0), rgb(255, 128, 10, 0), rgb(10, 20, 30, 40)})
    expected.insert(expected.end(), px.begin(), px.end());
  EXPECT_EQ(out, bytes_of(expected));
  EXPECT_EQ(out[0], std::byte{255});
  EXPECT_EQ(out[3], std::byte{0});  // full cyan, no black: red gone
}

struct Refusal {
  const char* name;
  StoredPixels stored;
  const char* says;
};

TEST(Photometric, RefusesWhatItCannotConvertAndSaysWhy) {
  StoredPixels cmyk_planar = stored(photometric::separated, 4, DType::uint8);
  cmyk_planar.planar_config = 2;
  StoredPixels cmyk_jpeg = stored(photometric::separated, 4, DType::uint8);
  cmyk_jpeg.compression = compression::jpeg;
  StoredPixels not_cmyk = stored(photometric::separated, 4, DType::uint8);
  not_cmyk.ink_set = 2;
  StoredPixels short_map = stored(photometric::palette, 1, DType::uint8);
  const std::vector<std::uint64_t> few(3 * 16, 0);
  short_map.color_map = few;
  const Refusal cases[] = {
      {"YCbCr uncompressed", stored(photometric::ycbcr, 3, DType::uint8), "YCbCr outside JPEG"},
      {"CIELab", stored(8, 3, DType::uint8), "PhotometricInterpretation 8 (CIELab) is not converted"},
      {"mask", stored(4, 1, DType::uint8), "TransparencyMask"},
      {"unknown", stored(12345, 1, DType::uint8), "12345 (unknown)"},
      {"MinIsWhite signed", stored(photometric::min_is_white, 1, DType::int16), "signed"},
      {"MinIsWhite with 3 samples", stored(photometric::min_is_white, 3, DType::uint8), "3 samples"},
      {"palette without map", stored(photometric::palette, 1, DType::uint8), "ColorMap has 0 values, not 3 x 256"},
      {"palette short map", short_map, "ColorMap has 48 values"},
      {"palette with 3 samples", stored(photometric::palette, 3, DType::uint8), "3 samples"},
      {"CMYK 16-bit", stored(photometric::separated, 4, DType::uint16), "uint16"},
      {"CMYK 3 samples", stored(photometric::separated, 3, DType::uint8), "3 samples"},
      {"CMYK planar", cmyk_planar, "separate planes"},
      {"CMYK JPEG", cmyk_jpeg, "CMYK JPEG"},
      {"InkSet 2", not_cmyk, "InkSet 2"},
  };
  for (const Refusal& r : cases) {
    try {
      plan_conversion(r.stored);
      ADD_FAILURE() << r.name << ": no error";
    } catch (const UnsupportedError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(r.says), std::string::npos) << r.name << ": " << message;
      EXPECT_NE(message.find("stored_samples"), std::string::npos) << r.name << ": the way out is named";
    }
    const PixelConversion kept = as_stored(r.stored);  // stored samples are always readable
    EXPECT_TRUE(kept.identity()) << r.name;
    EXPECT_EQ(kept.samples, r.stored.samples) << r.name;
    EXPECT_EQ(kept.dtype, r.stored.dtype) << r.name;
  }
}

}  // namespace
}  // namespace tilestream::codec
