// TiffWriter and the IFD encoder, checked with a test-local TIFF reader (writer_test_reader.hpp):
// header, IFD chain, every tag value, offsets and byte counts inside the file, pixel bytes of
// uncompressed pages equal to the filler's, for both byte orders, classic TIFF and BigTIFF.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/temp_path.hpp"
#include "tiff/tag_writer.hpp"
#include "tiff/writer_test_reader.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/tiff/writer.hpp"

namespace tilestream::tiff {
namespace {

using ::tilestream::testing::temp_path;

using testing::MiniTiff;
namespace fs = std::filesystem;

// Deterministic sample value of page `page`, pixel (x, y), sample c.
std::uint16_t sample_value(int page, std::uint64_t x, std::uint64_t y, std::uint32_t c, DType dtype) {
  const std::uint64_t v = x * 7 + y * 13 + c * 61 + static_cast<std::uint64_t>(page) * 101;
  return static_cast<std::uint16_t>(dtype == DType::uint8 ? v & 0xFF : (v * 257 + x) & 0xFFFF);
}

TileFiller make_filler(int page, std::uint32_t samples, DType dtype) {
  return [=](std::uint64_t x0, std::uint64_t y0, std::uint32_t width, std::uint32_t rows,
             std::span<std::byte> pixels) {
    const std::size_t bps = bytes_per_sample(dtype);
    ASSERT_EQ(pixels.size(), std::size_t{width} * rows * samples * bps);
    for (std::uint32_t y = 0; y < rows; ++y)
      for (std::uint32_t x = 0; x < width; ++x)
        for (std::uint32_t c = 0; c < samples; ++c) {
          const std::uint16_t v = sample_value(page, x0 + x, y0 + y, c, dtype);
          const std::size_t i = ((std::size_t{y} * width + x) * samples + c) * bps;
          if (bps == 1) {
            pixels[i] = static_cast<std::byte>(v);
          } else {
            std::memcpy(&pixels[i], &v, 2);  // native order, as the filler contract says
          }
        }
  };
}

struct Case {
  const char* name;
  bool big_tiff, big_endian, tiled;
  std::uint32_t samples;
  DType dtype;
};

class WriterLayout : public ::testing::TestWithParam<Case> {};

// Checks that every chunk of an uncompressed page holds the filler's pixels and that byte counts
// and offsets stay inside the file.
void expect_page_pixels(const MiniTiff& tiff, const MiniTiff::Page& page, int page_number,
                        std::uint32_t samples, DType dtype) {
  const std::uint64_t width = page.value(256), height = page.value(257);
  const bool tiled = page.has(322);
  const std::uint64_t cw = tiled ? page.value(322) : width;
  const std::uint64_t ch = tiled ? page.value(323) : page.value(278);
  const auto& offsets = page.values(tiled ? 324 : 273);
  const auto& counts = page.values(tiled ? 325 : 279);
  const std::uint64_t across = tiled ? (width + cw - 1) / cw : 1;
  const std::uint64_t down = (height + ch - 1) / ch;
  ASSERT_EQ(offsets.size(), across * down);
  ASSERT_EQ(counts.size(), offsets.size());
  const unsigned bps = static_cast<unsigned>(bytes_per_sample(dtype));
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    const std::uint64_t x0 = (i % across) * cw, y0 = (i / across) * ch;
    const std::uint64_t rows = tiled ? ch : std::min(ch, height - y0);
    ASSERT_EQ(counts[i], cw * rows * samples * bps) << "chunk " << i;
    ASSERT_LE(offsets[i] + counts[i], tiff.bytes.size()) << "chunk " << i;
    for (std::uint64_t y = 0; y < rows; ++y)
      for (std::uint64_t x = 0; x < cw; ++x)
        for (std::uint32_t c = 0; c < samples; ++c) {
          const std::uint64_t at = offsets[i] + ((y * cw + x) * samples + c) * bps;
          const std::uint64_t got = tiff.uint(at, bps);  // file byte order
          ASSERT_EQ(got, sample_value(page_number, x0 + x, y0 + y, c, dtype))
              << "chunk " << i << " pixel " << x << "," << y << " sample " << c;
        }
  }
}

TEST_P(WriterLayout, UncompressedPagesRoundTrip) {
  const Case& k = GetParam();
  const std::string path = temp_path("out.tif");
  TiffWriter writer(path, WriterOptions{k.big_tiff, k.big_endian});
  PageSpec first;
  first.width = 100;  // edge tiles in both directions
  first.height = 70;
  first.samples = k.samples;
  first.dtype = k.dtype;
  first.tiled = k.tiled;
  first.tile_width = 32;
  first.tile_height = 16;
  first.rows_per_strip = 16;  // 70 rows: the last strip has 6
  first.description = "level zero | synthetic";
  PageSpec second = first;
  second.width = 50;
  second.height = 35;
  second.subfile_type = 1;
  second.description.clear();
  writer.add_page(first, make_filler(0, k.samples, k.dtype), 3);
  writer.add_page(second, make_filler(1, k.samples, k.dtype), 1);
  writer.finish();
  EXPECT_FALSE(fs::exists(path + ".partial"));

  const MiniTiff tiff(path);
  EXPECT_EQ(tiff.big_tiff, k.big_tiff);
  EXPECT_EQ(tiff.big_endian, k.big_endian);
  ASSERT_EQ(tiff.pages.size(), 2u);
  for (int p = 0; p < 2; ++p) {
    const MiniTiff::Page& page = tiff.pages[p];
    const PageSpec& spec = p == 0 ? first : second;
    EXPECT_TRUE(std::is_sorted(page.order.begin(), page.order.end()));
    EXPECT_EQ(std::adjacent_find(page.order.begin(), page.order.end()), page.order.end());
    EXPECT_EQ(page.value(254), spec.subfile_type);
    EXPECT_EQ(page.value(256), spec.width);
    EXPECT_EQ(page.value(257), spec.height);
    EXPECT_EQ(page.values(258), std::vector<std::uint64_t>(k.samples, 8 * bytes_per_sample(k.dtype)));
    EXPECT_EQ(page.value(259), 1u);
    EXPECT_EQ(page.value(262), k.samples == 1 ? 1u : 2u);
    EXPECT_EQ(page.has(270), !spec.description.empty());
    if (page.has(270)) EXPECT_EQ(page.tag(270).text, spec.description);
    EXPECT_EQ(page.value(277), k.samples);
    EXPECT_EQ(page.value(284), 1u);
    EXPECT_FALSE(page.has(317));  // no predictor tag when predictor == 1
    EXPECT_EQ(page.has(338), k.samples == 4);
    if (k.samples == 4) EXPECT_EQ(page.values(338), std::vector<std::uint64_t>{2});
    EXPECT_EQ(page.values(339), std::vector<std::uint64_t>(k.samples, 1));
    EXPECT_FALSE(page.has(347));
    EXPECT_FALSE(page.has(530));
    const std::uint16_t offset_type = k.big_tiff ? 16 : 4;
    if (k.tiled) {
      EXPECT_EQ(page.value(322), 32u);
      EXPECT_EQ(page.value(323), 16u);
      EXPECT_EQ(page.tag(324).type, offset_type);
      EXPECT_EQ(page.tag(325).type, offset_type);
      EXPECT_FALSE(page.has(273));
    } else {
      EXPECT_EQ(page.value(278), 16u);
      EXPECT_EQ(page.tag(273).type, offset_type);
      EXPECT_EQ(page.tag(279).type, offset_type);
      EXPECT_FALSE(page.has(322));
    }
    expect_page_pixels(tiff, page, p, k.samples, k.dtype);
  }
  EXPECT_LT(tiff.pages[0].offset, tiff.pages[1].offset);  // IFDs chained in page order, at the end
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, WriterLayout,
    ::testing::Values(Case{"ClassicLittleTiledRgb", false, false, true, 3, DType::uint8},
                      Case{"ClassicBigTiledRgb", false, true, true, 3, DType::uint8},
                      Case{"BigTiffLittleTiledGray16", true, false, true, 1, DType::uint16},
                      Case{"BigTiffBigTiledRgba16", true, true, true, 4, DType::uint16},
                      Case{"ClassicLittleStripsRgba", false, false, false, 4, DType::uint8},
                      Case{"ClassicBigStripsGray16", false, true, false, 1, DType::uint16},
                      Case{"BigTiffBigStripsRgb", true, true, false, 3, DType::uint8},
                      Case{"BigTiffLittleStripsRgb16", true, false, false, 3, DType::uint16}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

std::vector<std::uint8_t> write_and_read(const std::string& path, const PageSpec& spec,
                                         unsigned threads, WriterOptions options = {}) {
  TiffWriter writer(path, options);
  writer.add_page(spec, make_filler(0, spec.samples, spec.dtype), threads);
  writer.finish();
  return MiniTiff(path).bytes;
}

TEST(TiffWriter, OutputDoesNotDependOnThreadCount) {
  PageSpec spec;
  spec.width = 300;
  spec.height = 200;
  spec.tile_width = spec.tile_height = 32;
  spec.compression = codec::compression::deflate;
  spec.predictor = 2;
  const auto one = write_and_read(temp_path("1.tif"), spec, 1);
  const auto many = write_and_read(temp_path("7.tif"), spec, 7);
  EXPECT_EQ(one, many);
}

TEST(TiffWriter, CompressedPageTags) {
  struct Compressed {
    std::uint16_t compression, predictor;
    std::uint32_t samples;
    bool ycbcr;
    std::uint16_t photometric;
  };
  const Compressed cases[] = {
      {codec::compression::deflate, 2, 3, false, 2}, {codec::compression::lzw, 2, 1, false, 1},
      {codec::compression::packbits, 1, 4, false, 2}, {codec::compression::jpeg, 1, 3, true, 6},
      {codec::compression::jpeg, 1, 3, false, 2},     {codec::compression::jpeg, 1, 1, true, 1},
  };
  for (const Compressed& c : cases) {
    SCOPED_TRACE(::testing::Message() << "compression " << c.compression << " samples " << c.samples
                                      << " ycbcr " << c.ycbcr);
    PageSpec spec;
    spec.width = 200;
    spec.height = 100;
    spec.samples = c.samples;
    spec.tile_width = spec.tile_height = 64;
    spec.compression = c.compression;
    spec.predictor = c.predictor;
    spec.encode.jpeg_ycbcr = c.ycbcr;
    const std::string path = temp_path("c.tif");
    write_and_read(path, spec, 2, WriterOptions{true, true});
    const MiniTiff tiff(path);
    ASSERT_EQ(tiff.pages.size(), 1u);
    const MiniTiff::Page& page = tiff.pages[0];
    EXPECT_EQ(page.value(259), c.compression);
    EXPECT_EQ(page.value(262), c.photometric);
    EXPECT_EQ(page.has(317), c.predictor != 1);
    if (c.predictor != 1) EXPECT_EQ(page.value(317), c.predictor);
    const bool jpeg = c.compression == codec::compression::jpeg;
    EXPECT_EQ(page.has(347), jpeg);
    if (jpeg) {
      const auto& tables = page.tag(347);
      EXPECT_EQ(tables.type, 7);
      ASSERT_GE(tables.raw.size(), 4u);
      EXPECT_EQ(tables.raw[0], 0xFF);
      EXPECT_EQ(tables.raw[1], 0xD8);  // SOI
    }
    EXPECT_EQ(page.has(530), c.photometric == 6);
    if (c.photometric == 6) EXPECT_EQ(page.values(530), (std::vector<std::uint64_t>{2, 2}));
    const auto& offsets = page.values(324);
    const auto& counts = page.values(325);
    ASSERT_EQ(offsets.size(), 8u);  // 4 x 2 tiles
    for (std::size_t i = 0; i < offsets.size(); ++i) {
      EXPECT_GT(counts[i], 0u);
      EXPECT_LE(offsets[i] + counts[i], tiff.bytes.size());
      if (i > 0) EXPECT_EQ(offsets[i], offsets[i - 1] + counts[i - 1]);  // written in order
    }
  }
}

TEST(TiffWriter, RejectsBadPages) {
  struct Bad {
    const char* what;
    void (*mutate)(PageSpec&);
  };
  const Bad cases[] = {
      {"tile not a multiple of 16", [](PageSpec& p) { p.tile_width = 100; }},
      {"zero tile height", [](PageSpec& p) { p.tile_height = 0; }},
      {"empty image", [](PageSpec& p) { p.height = 0; }},
      {"two samples", [](PageSpec& p) { p.samples = 2; }},
      {"predictor without compression", [](PageSpec& p) { p.predictor = 2; }},
      {"predictor 3", [](PageSpec& p) { p.predictor = 3; p.compression = codec::compression::deflate; }},
      {"jpeg of uint16", [](PageSpec& p) { p.compression = codec::compression::jpeg; p.dtype = DType::uint16; }},
      {"jpeg strips of 10 rows",
       [](PageSpec& p) { p.compression = codec::compression::jpeg; p.tiled = false; p.rows_per_strip = 10; }},
      {"zero rows per strip", [](PageSpec& p) { p.tiled = false; p.rows_per_strip = 0; }},
  };
  for (const Bad& bad : cases) {
    SCOPED_TRACE(bad.what);
    PageSpec spec;
    spec.width = spec.height = 64;
    bad.mutate(spec);
    TiffWriter writer(temp_path("bad.tif"), {});
    EXPECT_THROW(writer.add_page(spec, make_filler(0, 3, DType::uint8)), UsageError);
  }
}

TEST(TiffWriter, UnfinishedWriterLeavesNoFile) {
  const std::string path = temp_path("never.tif");
  {
    TiffWriter writer(path, {});
    PageSpec spec;
    spec.width = spec.height = 64;
    writer.add_page(spec, make_filler(0, 3, DType::uint8));
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".partial"));
}

TEST(TiffWriter, FillerErrorPropagatesAndBlocksFinish) {
  const std::string path = temp_path("fail.tif");
  TiffWriter writer(path, {});
  PageSpec spec;
  spec.width = spec.height = 512;
  spec.tile_width = spec.tile_height = 16;
  auto fill = [](std::uint64_t x0, std::uint64_t y0, std::uint32_t, std::uint32_t, std::span<std::byte>) {
    if (x0 == 240 && y0 == 256) throw IoError("filler failed");
  };
  EXPECT_THROW(writer.add_page(spec, fill, 4), IoError);
  EXPECT_THROW(writer.finish(), UsageError);
}

TEST(TiffWriter, FinishNeedsAPage) {
  TiffWriter writer(temp_path("empty.tif"), {});
  EXPECT_THROW(writer.finish(), UsageError);
}

// The 4 GiB limit of classic TIFF, checked without writing 4 GiB.
TEST(TagWriter, ClassicOffsetLimit) {
  EXPECT_NO_THROW(detail::check_classic_offset(0xFFFF'FFFFull, "x"));
  EXPECT_THROW(detail::check_classic_offset(0x1'0000'0000ull, "tile 3"), FormatError);
  try {
    detail::check_classic_offset(5ull << 30, "tile 3");
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("BigTIFF"), std::string::npos) << e.what();
  }
  const std::vector<std::uint64_t> far = {16, 0x1'0000'0010ull};
  detail::TagListBuilder classic(false, false);
  EXPECT_THROW(classic.add_offsets(324, far), FormatError);
  detail::TagListBuilder big(true, false);
  big.add_offsets(324, far);
  const auto tags = big.take();
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].type, detail::field_type::long8);
  EXPECT_EQ(tags[0].value.size(), 16u);
  EXPECT_EQ(std::to_integer<int>(tags[0].value[12]), 1);  // little-endian 0x1'0000'0010
}

TEST(TagWriter, IfdLayoutInlineAndOutOfLine) {
  for (const bool big_tiff : {false, true}) {
    for (const bool big_endian : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "big_tiff " << big_tiff << " big_endian " << big_endian);
      detail::TagListBuilder builder(big_tiff, big_endian);
      builder.add_ascii(270, "abc");  // 4 bytes with NUL: inline in both
      builder.add_long(256, 77);
      const std::uint16_t three[3] = {8, 8, 8};  // 6 bytes: out of line in classic only
      builder.add_shorts(258, three);
      builder.add_ascii(305, "tilestream");  // 11 bytes: out of line in both
      const auto tags = builder.take();
      ASSERT_EQ(tags.size(), 4u);
      EXPECT_EQ(tags[0].code, 256);
      EXPECT_EQ(tags[3].code, 305);

      const std::uint64_t ifd_at = big_tiff ? 24 : 10;
      const auto ifd = detail::encode_ifd(tags, ifd_at, 0, big_tiff, big_endian);
      EXPECT_EQ(ifd.size(), detail::ifd_encoded_size(tags, big_tiff));
      auto header = detail::encode_header(big_tiff, big_endian, ifd_at);
      header.resize(ifd_at);
      header.insert(header.end(), ifd.begin(), ifd.end());
      const std::string path = temp_path("ifd.tif");
      {
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
      }
      const MiniTiff tiff(path);
      ASSERT_EQ(tiff.pages.size(), 1u);
      const auto& page = tiff.pages[0];
      EXPECT_EQ(page.value(256), 77u);
      EXPECT_EQ(page.values(258), (std::vector<std::uint64_t>{8, 8, 8}));
      EXPECT_EQ(page.tag(258).is_inline, big_tiff);
      EXPECT_EQ(page.tag(270).text, "abc");
      EXPECT_TRUE(page.tag(270).is_inline);
      EXPECT_EQ(page.tag(305).text, "tilestream");
      EXPECT_FALSE(page.tag(305).is_inline);
      EXPECT_EQ(page.tag(305).value_offset % (big_tiff ? 8 : 2), 0u);
    }
  }
}

TEST(TagWriter, DuplicateTagIsRejected) {
  detail::TagListBuilder builder(false, false);
  builder.add_long(256, 1);
  builder.add_long(256, 2);
  EXPECT_THROW(builder.take(), UsageError);
}

}  // namespace
}  // namespace tilestream::tiff
