// Reading images whose photometric needs a conversion (Palette, MinIsWhite, CMYK): the pixels are
// the converted ones on every layout (tiles, strips, compressed, regions cutting tiles), the level
// reports the converted samples and type, stored samples come back when asked for, and what cannot
// be converted (or mixes SampleFormats) is refused naming file and IFD.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "support/tiff_builder.hpp"
#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::slide {
namespace {

using test::BaseFile;
using test::BaseOptions;
using test::TagValue;

// A 16-bit ColorMap whose low bytes differ from its high bytes (a reader that rounds would show).
std::vector<std::uint64_t> sixteen_bit_map() {
  std::vector<std::uint64_t> map(3 * 256);
  for (std::size_t ch = 0; ch < 3; ++ch)
    for (std::size_t i = 0; i < 256; ++i) map[ch * 256 + i] = ((255 - i) * 256 + ch * 37 * 256 + 0x80 + i) & 0xffff;
  return map;
}

// The pixels a reader must return, computed here from the stored samples (independently of the
// library's table).
using Expect = std::function<std::vector<std::byte>(const std::vector<std::byte>& stored)>;

std::vector<std::byte> expect_palette(const std::vector<std::byte>& stored) {
  const auto map = sixteen_bit_map();
  std::vector<std::byte> out;
  for (const std::byte b : stored) {
    for (std::size_t ch = 0; ch < 3; ++ch)
      out.push_back(static_cast<std::byte>(map[ch * 256 + static_cast<std::uint8_t>(b)] >> 8));
  }
  return out;
}

std::vector<std::byte> expect_inverted(const std::vector<std::byte>& stored) {
  std::vector<std::byte> out = stored;
  for (std::byte& b : out) b = ~b;  // 255 - v, and 65535 - v byte by byte
  return out;
}

std::vector<std::byte> expect_cmyk(const std::vector<std::byte>& stored) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 3 < stored.size(); i += 4) {
    const unsigned k = 255 - static_cast<unsigned>(stored[i + 3]);
    for (std::size_t ch = 0; ch < 3; ++ch)
      out.push_back(static_cast<std::byte>(k * (255 - static_cast<unsigned>(stored[i + ch])) / 255));
  }
  return out;
}

struct Case {
  const char* name;
  std::uint16_t photometric;
  std::uint32_t samples;
  DType dtype;
  std::uint16_t compression;
  bool tiled;
  std::uint32_t out_samples;
  DType out_dtype;
  Expect expect;
};

BaseOptions options_for(const Case& c) {
  BaseOptions o;
  o.photometric = c.photometric;
  o.samples = c.samples;
  o.dtype = c.dtype;
  o.compression = c.compression;
  o.tiled = c.tiled;
  o.width = 45;
  o.height = 37;
  o.tile = 16;
  if (c.photometric == codec::photometric::palette) o.extra_tags.push_back({320, test::field::short_, sixteen_bit_map(), {}});
  return o;
}

class ConvertedPhotometric : public ::testing::TestWithParam<Case> {};

TEST_P(ConvertedPhotometric, PixelsAreConvertedOnEveryPath) {
  const Case& c = GetParam();
  const BaseFile base = test::build_base(options_for(c));
  const Slide slide = Slide::open(std::make_shared<io::MemorySource>(base.tiff.bytes, c.name));
  const tiff::ImageInfo& image = slide.level(0).image;
  ASSERT_TRUE(image.unsupported_reason.empty()) << image.unsupported_reason;
  EXPECT_EQ(image.samples, c.out_samples);
  EXPECT_EQ(image.dtype, c.out_dtype);
  EXPECT_EQ(image.stored_samples, c.samples);
  EXPECT_EQ(image.stored_dtype, c.dtype);

  const std::vector<std::byte> expected = c.expect(base.level0_pixels);
  const HostImage level = slide.read_level(0, {3});
  ASSERT_EQ(level.samples(), c.out_samples);
  ASSERT_EQ(level.dtype(), c.out_dtype);
  ASSERT_EQ(level.bytes().size(), expected.size());
  EXPECT_EQ(std::memcmp(level.bytes().data(), expected.data(), expected.size()), 0);

  // A region that cuts tiles on every side.
  const std::uint64_t x = 5, y = 7, w = 30, h = 20;
  const HostImage region = slide.read_region(0, x, y, w, h, {2});
  const std::size_t pixel = level.pixel_bytes();
  for (std::uint64_t row = 0; row < h; ++row) {
    EXPECT_EQ(std::memcmp(region.row(row), level.row(y + row) + x * pixel, w * pixel), 0) << "row " << row;
  }

  // Stored samples when asked for: the file's own values.
  const Slide stored = Slide::open(std::make_shared<io::MemorySource>(base.tiff.bytes, c.name), {.stored_samples = true});
  EXPECT_TRUE(stored.index().stored_samples);
  EXPECT_TRUE(stored.level(0).image.conversion.identity());
  const HostImage raw = stored.read_level(0);
  EXPECT_EQ(raw.samples(), c.samples);
  EXPECT_EQ(raw.dtype(), c.dtype);
  ASSERT_EQ(raw.bytes().size(), base.level0_pixels.size());
  EXPECT_EQ(std::memcmp(raw.bytes().data(), base.level0_pixels.data(), raw.bytes().size()), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConvertedPhotometric,
    ::testing::Values(
        Case{"palette-raw-tiles", 3, 1, DType::uint8, 1, true, 3, DType::uint8, expect_palette},
        Case{"palette-deflate-strips", 3, 1, DType::uint8, 8, false, 3, DType::uint8, expect_palette},
        Case{"miniswhite-8-lzw-tiles", 0, 1, DType::uint8, 5, true, 1, DType::uint8, expect_inverted},
        Case{"miniswhite-16-raw-tiles", 0, 1, DType::uint16, 1, true, 1, DType::uint16, expect_inverted},
        Case{"miniswhite-16-strips", 0, 1, DType::uint16, 8, false, 1, DType::uint16, expect_inverted},
        Case{"cmyk-raw-tiles", 5, 4, DType::uint8, 1, true, 3, DType::uint8, expect_cmyk},
        Case{"cmyk-packbits-strips", 5, 4, DType::uint8, 32773, false, 3, DType::uint8, expect_cmyk}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string name = info.param.name;
      for (char& ch : name)
        if (ch == '-') ch = '_';
      return name;
    });

// Reading the image must fail with UnsupportedError whose message holds every piece of `says`.
void expect_refused(const Slide& slide, const std::vector<std::string>& says) {
  try {
    slide.read_level(0);
    ADD_FAILURE() << "no error";
  } catch (const UnsupportedError& e) {
    for (const std::string& piece : says) EXPECT_NE(std::string(e.what()).find(piece), std::string::npos) << e.what();
  }
}

TEST(ConvertedPhotometric, UnconvertedPhotometricIsRefusedUnlessStoredSamplesAreAsked) {
  BaseOptions o;
  o.photometric = 8;  // CIELab
  const BaseFile base = test::build_base(o);
  const Slide slide = Slide::open(std::make_shared<io::MemorySource>(base.tiff.bytes, "lab.tif"));
  expect_refused(slide, {"lab.tif", "IFD 0", "PhotometricInterpretation 8 (CIELab)", "stored_samples"});
  const Slide stored = Slide::open(std::make_shared<io::MemorySource>(base.tiff.bytes, "lab.tif"), {.stored_samples = true});
  const HostImage raw = stored.read_level(0);
  ASSERT_EQ(raw.bytes().size(), base.level0_pixels.size());
  EXPECT_EQ(std::memcmp(raw.bytes().data(), base.level0_pixels.data(), raw.bytes().size()), 0);
}

TEST(ConvertedPhotometric, PaletteWithoutColorMapIsRefused) {
  BaseOptions o;
  o.photometric = codec::photometric::palette;
  o.samples = 1;
  const BaseFile base = test::build_base(o);
  const Slide slide = Slide::open(std::make_shared<io::MemorySource>(base.tiff.bytes, "palette.tif"));
  EXPECT_EQ(slide.level(0).image.samples, 1u);  // what the file stores, for `info`
  expect_refused(slide, {"palette.tif", "IFD 0", "Palette", "ColorMap has 0 values"});
}

TEST(SampleFormat, DifferentPerSampleIsRefused) {
  BaseOptions o;  // 3 x uint8
  o.extra_tags.push_back({339, test::field::short_, {1, 3, 1}, {}});
  const BaseFile base = test::build_base(o);
  const Slide slide = Slide::open(std::make_shared<io::MemorySource>(base.tiff.bytes, "mixed.tif"));
  EXPECT_NE(slide.level(0).image.unsupported_reason.find("different SampleFormat (1, 3, 1)"), std::string::npos)
      << slide.level(0).image.unsupported_reason;
  expect_refused(slide, {"mixed.tif", "IFD 0", "samples with different SampleFormat (1, 3, 1) are not supported"});
}

TEST(SampleFormat, TheSameValuePerSampleIsRead) {
  BaseOptions o;
  o.extra_tags.push_back({339, test::field::short_, {1, 1, 1}, {}});
  const BaseFile base = test::build_base(o);
  const Slide slide = Slide::open(std::make_shared<io::MemorySource>(base.tiff.bytes, "same.tif"));
  const HostImage level = slide.read_level(0);
  ASSERT_EQ(level.bytes().size(), base.level0_pixels.size());
  EXPECT_EQ(std::memcmp(level.bytes().data(), base.level0_pixels.data(), level.bytes().size()), 0);
}

}  // namespace
}  // namespace tilestream::slide
