// DICOM whole slide image series indexed and read (src/dicom/series, instance, pixel_data): files built
// in memory (tests/dicom/dicom_bytes.hpp) indexed by index_series and read through
// slide::read_image_region over a source laid out as io::FileSeries lays files out; native frames
// (RGB interleaved and planar, 16-bit grey, implicit VR), encapsulated JPEG 2000 and JPEG frames with
// each offset table, TILED_FULL with edge tiles, TILED_SPARSE with shuffled frames and a missing
// tile, a level split over a concatenation, a pyramid with a label, the properties; and series on
// disk opened by dicom::open_series and slide::Slide::open from a folder or one of its files.
#include "tilestream/dicom/series.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dicom/dicom_bytes.hpp"
#include "support/temp_path.hpp"
#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::dicom {
namespace {

namespace build = testing::dicom;
using build::Bytes;

// Level 0 of most tests: 10 x 6 pixels in 4 x 4 frames, 3 x 2 tiles, the last column and row cut.
build::WsiFile volume(const build::Image& image, bool planar = false) {
  build::WsiFile f;
  f.width = image.width;
  f.height = image.height;
  f.samples = image.samples;
  f.bits = 8 * image.bytes;
  f.photometric = image.samples == 1 ? "MONOCHROME2" : "RGB";
  f.planar = planar ? 1 : 0;
  f.pixels.frames = image.frames(f.tile_width, f.tile_height, planar);
  f.pixels.vr = image.bytes == 2 ? "OW" : "OB";
  return f;
}

tiff::SlideIndex index_of(const build::MemorySeries& series) {
  return index_series(series.parts(), series.name());
}

HostImage read(const io::ByteSource& source, const tiff::ImageInfo& image, std::uint32_t x, std::uint32_t y,
               std::uint32_t w, std::uint32_t h) {
  return slide::read_image_region(source, image, "level 0", x, y, w, h, 2);
}

Bytes bytes_of(const HostImage& image) { return {image.bytes().begin(), image.bytes().end()}; }

// The whole level and a region across four tiles equal the image.
void expect_level(const build::MemorySeries& series, const tiff::ImageInfo& level,
                  const build::Image& image) {
  ASSERT_EQ(level.width, image.width);
  ASSERT_EQ(level.height, image.height);
  EXPECT_EQ(level.samples, image.samples);
  EXPECT_EQ(level.dtype, image.bytes == 2 ? DType::uint16 : DType::uint8);
  EXPECT_EQ(bytes_of(read(series, level, 0, 0, image.width, image.height)),
            image.region(0, 0, image.width, image.height));
  EXPECT_EQ(bytes_of(read(series, level, 3, 2, 6, 3)), image.region(3, 2, 6, 3));
}

struct NativeCase {
  const char* name;
  std::uint32_t samples, bytes;
  bool planar;
  const char* syntax;
};

class NativeFrames : public ::testing::TestWithParam<NativeCase> {};

TEST_P(NativeFrames, ReadAsDrawn) {
  const NativeCase c = GetParam();
  const build::Image image{10, 6, c.samples, c.bytes, 1};
  build::WsiFile file = volume(image, c.planar);
  file.syntax = c.syntax;
  const build::MemorySeries series({file.bytes()});
  const tiff::SlideIndex index = index_of(series);
  EXPECT_EQ(index.format, "DICOM");
  EXPECT_EQ(index.vendor, "dicom");
  EXPECT_EQ(index.file_count, 1u);
  ASSERT_EQ(index.levels.size(), 1u);
  const tiff::ImageInfo& level = index.levels[0].image;
  EXPECT_TRUE(level.unsupported_reason.empty()) << level.unsupported_reason;
  EXPECT_EQ(level.tile_width, 4u);
  EXPECT_EQ(level.tile_height, 4u);
  EXPECT_EQ(level.planar_config, c.planar ? 2 : 1);
  EXPECT_EQ(level.tile_offsets.size(), 6u * level.planes());
  expect_level(series, level, image);
}

INSTANTIATE_TEST_SUITE_P(DicomSeries, NativeFrames,
                         ::testing::Values(NativeCase{"Rgb8", 3, 1, false, build::explicit_le},
                                           NativeCase{"Rgb8Planar", 3, 1, true, build::explicit_le},
                                           NativeCase{"Grey16", 1, 2, false, build::explicit_le},
                                           NativeCase{"Rgb8Implicit", 3, 1, false, build::implicit_le},
                                           NativeCase{"Rgb16PlanarImplicit", 3, 2, true, build::implicit_le}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(DicomSeries, UndefinedLengthSequencesReadTheSame) {
  const build::Image image{10, 6, 3, 1, 2};
  build::WsiFile file = volume(image);
  file.sequence_lengths = {true, true};
  file.organization = "TILED_SPARSE";
  for (std::uint32_t row = 0; row < 2; ++row)
    for (std::uint32_t column = 0; column < 3; ++column)
      file.positions.push_back({column * 4 + 1, row * 4 + 1});
  const build::MemorySeries series({file.bytes()});
  const tiff::SlideIndex index = index_of(series);
  EXPECT_DOUBLE_EQ(std::stod(index.properties.at("openslide.mpp-x")), 0.5);
  expect_level(series, index.levels.at(0).image, image);
}

// Encapsulated frames, each offset table: JPEG 2000 (lossless, so every pixel is compared).
class Jpeg2000Frames : public ::testing::TestWithParam<build::OffsetTable> {};

TEST_P(Jpeg2000Frames, ReadAsDrawn) {
  if (!codec::is_supported(codec::compression::jpeg2000)) GTEST_SKIP() << "JPEG 2000 is not built in";
  const build::Image image{10, 6, 3, 1, 3};
  build::WsiFile file = volume(image);
  file.syntax = build::jpeg2000_lossless;
  file.pixels.encapsulated = true;
  file.pixels.table = GetParam();
  codec::TileLayout layout;
  layout.width = 4;
  layout.rows = 4;
  layout.samples = 3;
  layout.photometric = codec::photometric::rgb;
  for (Bytes& frame : file.pixels.frames)
    frame = codec::encode_tile(codec::compression::jpeg2000, frame, layout, {});
  const build::MemorySeries series({file.bytes()});
  const tiff::SlideIndex index = index_of(series);
  const tiff::ImageInfo& level = index.levels.at(0).image;
  EXPECT_EQ(level.compression, codec::compression::jpeg2000);
  EXPECT_TRUE(level.unsupported_reason.empty()) << level.unsupported_reason;
  // Each tile is its frame's fragment: the item's length (padded to even), or the Extended Offset
  // Table's length.
  for (std::size_t k = 0; k < 6; ++k) {
    const std::size_t size = file.pixels.frames[k].size();
    EXPECT_EQ(level.tile_byte_counts[k], GetParam() == build::OffsetTable::extended ? size : size + size % 2)
        << k;
  }
  expect_level(series, level, image);
}

INSTANTIATE_TEST_SUITE_P(DicomSeries, Jpeg2000Frames,
                         ::testing::Values(build::OffsetTable::empty_basic, build::OffsetTable::basic,
                                           build::OffsetTable::extended),
                         [](const auto& info) {
                           return std::string(
                               info.param == build::OffsetTable::empty_basic ? "EmptyBasicOffsetTable"
                               : info.param == build::OffsetTable::basic     ? "BasicOffsetTable"
                                                                             : "ExtendedOffsetTable");
                         });

// JPEG baseline frames in YCbCr (YBR_FULL_422): the frames are whole JPEG streams (the tables and
// the abbreviated stream encode_tile writes joined); pixels within JPEG's loss of the drawing.
TEST(DicomSeries, JpegBaselineFrames) {
  build::Image image{10, 6, 3, 1, 4};
  build::WsiFile file = volume(image);
  file.syntax = build::jpeg_baseline;
  file.photometric = "YBR_FULL_422";
  file.pixels.encapsulated = true;
  codec::EncodeOptions options;
  options.jpeg_quality = 100;
  options.jpeg_ycbcr_sampling = {2, 1};  // 4:2:2
  codec::TileLayout layout;
  layout.width = 4;
  layout.rows = 4;
  layout.samples = 3;
  layout.photometric = codec::photometric::ycbcr;
  const Bytes tables = codec::make_jpeg_tables(3, options);
  for (Bytes& frame : file.pixels.frames) {
    const Bytes stream = codec::encode_tile(codec::compression::jpeg, frame, layout, options);
    Bytes whole(tables.begin(), tables.end() - 2);                // without EOI
    whole.insert(whole.end(), stream.begin() + 2, stream.end());  // without SOI
    frame = whole;
  }
  const build::MemorySeries series({file.bytes()});
  const tiff::ImageInfo level = index_of(series).levels.at(0).image;
  EXPECT_EQ(level.compression, codec::compression::jpeg);
  EXPECT_EQ(level.photometric, codec::photometric::ycbcr);
  const Bytes got = bytes_of(read(series, level, 0, 0, 10, 6));
  const Bytes want = image.region(0, 0, 10, 6);
  ASSERT_EQ(got.size(), want.size());
  double error = 0;
  for (std::size_t k = 0; k < got.size(); ++k)
    error += std::abs(std::to_integer<int>(got[k]) - std::to_integer<int>(want[k]));
  EXPECT_LT(error / static_cast<double>(got.size()),
            10.0);  // 7.6 here; tiles misplaced or colours unconverted: over 40
}

// TILED_SPARSE: frames in shuffled order, tile (1, 1) without a frame (read as zeros).
TEST(DicomSeries, TiledSparseShuffledWithAMissingTile) {
  const build::Image image{10, 6, 3, 1, 5};
  build::WsiFile file = volume(image);
  file.organization = "TILED_SPARSE";
  file.pixels.frames.clear();
  for (const auto& [column, row] :
       std::vector<std::pair<std::uint32_t, std::uint32_t>>{{2, 1}, {0, 0}, {2, 0}, {0, 1}, {1, 0}}) {
    file.pixels.frames.push_back(image.frame(column, row, 4, 4));
    file.positions.push_back({column * 4 + 1, row * 4 + 1});
  }
  const build::MemorySeries series({file.bytes()});
  const tiff::ImageInfo level = index_of(series).levels.at(0).image;
  EXPECT_EQ(level.tile_byte_counts[level.tile_number(1, 1)], 0u);
  Bytes want = image.region(0, 0, 10, 6);
  for (std::uint32_t y = 4; y < 6; ++y)
    for (std::uint32_t x = 4; x < 8; ++x)
      for (std::uint32_t s = 0; s < 3; ++s) want[(y * 10 + x) * 3 + s] = std::byte{0};
  EXPECT_EQ(bytes_of(read(series, level, 0, 0, 10, 6)), want);
}

// A level in two files of a concatenation (frames 1-4 and 5-6), the second file first in the series.
TEST(DicomSeries, LevelSplitOverAConcatenation) {
  const build::Image image{10, 6, 3, 1, 6};
  const build::WsiFile whole = volume(image);
  build::WsiFile first = whole, second = whole;
  first.concatenation = second.concatenation = "1.2.826.0.1.3680043.10.9.7.99";
  first.pixels.frames.assign(whole.pixels.frames.begin(), whole.pixels.frames.begin() + 4);
  second.pixels.frames.assign(whole.pixels.frames.begin() + 4, whole.pixels.frames.end());
  second.instance += ".2";
  second.frame_offset = 4;
  second.in_concatenation = 2;
  const build::MemorySeries series({second.bytes(), first.bytes()});
  const tiff::SlideIndex index = index_of(series);
  ASSERT_EQ(index.levels.size(), 1u);
  const tiff::ImageInfo& level = index.levels[0].image;
  EXPECT_EQ(level.ifd_label, "file file1.dcm and 1 more of its concatenation");
  EXPECT_EQ(level.tile_offsets[0] / io::FileSeries::part_stride, 1u);  // frame 1: in file1
  EXPECT_EQ(level.tile_offsets[5] / io::FileSeries::part_stride, 0u);  // frame 6: in file0
  expect_level(series, level, image);
}

// Two levels (the smaller one first among the files) and a label.
std::vector<Bytes> pyramid(const std::string& series_uid, const build::Image& base) {
  build::WsiFile level0 = volume(base);
  const build::Image half{base.width / 2, base.height / 2, 3, 1, base.seed + 1};
  build::WsiFile level1 = volume(half);
  level1.pixel_spacing = "0.0005\\0.001";
  const build::Image label_image{6, 4, 3, 1, base.seed + 2};
  build::WsiFile label = volume(label_image);
  label.flavor = "LABEL";
  label.tile_width = 6;
  label.tile_height = 4;
  label.pixels.frames = {label_image.frame(0, 0, 6, 4)};
  std::vector<Bytes> files;
  for (build::WsiFile* f : {&level1, &level0, &label}) {
    f->series = series_uid;
    f->instance = series_uid + "." + std::to_string(files.size() + 1);
    files.push_back(f->bytes());
  }
  return files;
}

TEST(DicomSeries, PyramidLabelAndProperties) {
  const build::Image base{10, 6, 3, 1, 7};
  const build::MemorySeries series(pyramid("1.2.826.0.1.3680043.10.9.8", base));
  const tiff::SlideIndex index = index_of(series);
  ASSERT_EQ(index.levels.size(), 2u);
  EXPECT_EQ(index.levels[0].image.width, 10u);
  EXPECT_EQ(index.levels[1].image.width, 5u);
  EXPECT_DOUBLE_EQ(index.levels[1].downsample, 2.0);
  EXPECT_EQ(index.levels[0].image.ifd_label, "file file1.dcm");
  ASSERT_EQ(index.associated.size(), 1u);
  EXPECT_EQ(index.associated[0].name, "label");
  EXPECT_EQ(index.images.size(), 3u);
  expect_level(series, index.levels[0].image, base);
  const build::Image label_image{6, 4, 3, 1, 9};
  EXPECT_EQ(bytes_of(read(series, index.associated[0].image, 0, 0, 6, 4)), label_image.region(0, 0, 6, 4));
  const build::Image half{5, 3, 3, 1, 8};
  EXPECT_EQ(bytes_of(read(series, index.levels[1].image, 0, 0, 5, 3)), half.region(0, 0, 5, 3));

  const auto& p = index.properties;
  EXPECT_EQ(p.at("openslide.vendor"), "dicom");
  EXPECT_EQ(p.at("dicom.ImageType[0]"), "ORIGINAL");
  EXPECT_EQ(p.at("dicom.ImageType[2]"), "VOLUME");
  EXPECT_EQ(p.at("dicom.TotalPixelMatrixColumns"), "10");  // the base level's
  EXPECT_EQ(p.at("dicom.Rows"), "4");
  EXPECT_EQ(p.at("dicom.TransferSyntaxUID"), build::explicit_le);
  EXPECT_EQ(p.at("dicom.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing[0]"),
            "0.00025");
  EXPECT_EQ(p.at("dicom.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing[1]"),
            "0.0005");
  EXPECT_EQ(p.at("dicom.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].SliceThickness"), "0.001");
  EXPECT_DOUBLE_EQ(std::stod(p.at("openslide.mpp-x")), 0.5);
  EXPECT_DOUBLE_EQ(std::stod(p.at("openslide.mpp-y")), 0.25);
  EXPECT_EQ(p.at("openslide.level-count"), "2");
  EXPECT_EQ(p.at("openslide.level[1].width"), "5");
  EXPECT_EQ(p.at("openslide.associated.label.width"), "6");
  EXPECT_EQ(p.count("dicom.PixelData"), 0u);
}

// Binary numbers of every width as properties, the 64-bit ones (UV, SV) whole at their extremes.
TEST(DicomSeries, BinaryNumbersAsProperties) {
  const build::WsiFile f = volume(build::Image{10, 6, 3, 1, 1});
  build::DataSet set = f.data_set();
  set.raw(build::tag(0x7FE0, 0x0003), "UV", build::binary<std::uint64_t>({~std::uint64_t{0}, 1}));
  set.raw(build::tag(0x0048, 0x0001), "SV", build::binary<std::int64_t>({INT64_MIN}));
  set.raw(build::tag(0x0048, 0x0002), "SS", build::binary<std::int16_t>({-3}));
  set.raw(build::tag(0x0048, 0x0003), "FD", build::binary<double>({0.1}));
  const build::MemorySeries series({build::part10(f.syntax, set, &f.pixels)});
  const auto p = index_of(series).properties;
  EXPECT_EQ(p.at("dicom.EncapsulatedPixelDataValueTotalLength[0]"), "18446744073709551615");
  EXPECT_EQ(p.at("dicom.EncapsulatedPixelDataValueTotalLength[1]"), "1");
  EXPECT_EQ(p.at("dicom.ImagedVolumeWidth"), "-9223372036854775808");
  EXPECT_EQ(p.at("dicom.ImagedVolumeHeight"), "-3");
  EXPECT_EQ(p.at("dicom.ImagedVolumeDepth"), "0.10000000000000001");  // OpenSlide's %.17g
  EXPECT_EQ(p.at("dicom.TotalPixelMatrixColumns"), "10");
}

TEST(DicomSeries, FilesOfOtherClassesArePassedOver) {
  build::WsiFile other = volume(build::Image{10, 6, 3, 1, 1});
  build::DataSet set = other.data_set();
  set.text(build::tag(0x0008, 0x0016), "UI", "1.2.840.10008.5.1.4.1.1.7");  // Secondary Capture
  const Bytes secondary = build::part10(build::explicit_le, set, &other.pixels);
  const build::MemorySeries alone({secondary});
  try {
    index_of(alone);
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("<series>: no VL Whole Slide Microscopy image"), std::string::npos)
        << e.what();
  }
  const build::Image image{10, 6, 3, 1, 2};
  const build::MemorySeries mixed({secondary, volume(image).bytes()});
  const tiff::SlideIndex index = index_of(mixed);
  EXPECT_EQ(index.levels.at(0).image.ifd_label, "file file1.dcm");
  expect_level(mixed, index.levels[0].image, image);
}

TEST(DicomSeries, TwoSeriesAreAUsageError) {
  build::WsiFile a = volume(build::Image{10, 6, 3, 1, 1});
  build::WsiFile b = a;
  b.series += ".2";
  const build::MemorySeries series({a.bytes(), b.bytes()});
  try {
    index_of(series);
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("<series>: the files hold 2 whole slide image series"),
              std::string::npos)
        << e.what();
  }
}

TEST(DicomSeries, OneFileInMemoryThroughSlideOpen) {
  const build::Image image{10, 6, 1, 2, 3};
  const Bytes bytes = volume(image).bytes();
  const slide::Slide s = slide::Slide::open(std::make_shared<io::MemorySource>(bytes, "one.dcm"));
  EXPECT_EQ(s.index().format, "DICOM");
  EXPECT_EQ(bytes_of(s.read_region(0, 0, 0, 10, 6)), image.region(0, 0, 10, 6));
  EXPECT_DOUBLE_EQ(s.microns_per_pixel().value_or(0), 0.5);
}

// Series on disk: a folder of one series (and a file that is not DICOM), a folder of two.
class DicomSeriesOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::temp_path("series");
    std::filesystem::create_directories(root_ + "/one");
    std::filesystem::create_directories(root_ + "/two");
    const std::vector<Bytes> a = pyramid("1.2.826.0.1.3680043.10.9.10", build::Image{10, 6, 3, 1, 11});
    const std::vector<Bytes> b = pyramid("1.2.826.0.1.3680043.10.9.11", build::Image{12, 8, 3, 1, 21});
    for (std::size_t k = 0; k < a.size(); ++k) {
      write(root_ + "/one/a" + std::to_string(k) + ".dcm", a[k]);
      write(root_ + "/two/a" + std::to_string(k) + ".dcm", a[k]);
    }
    write(root_ + "/two/b0.dcm", b[1]);  // b's level 0 alone
    write(root_ + "/one/notes.txt", Bytes(200, std::byte{'x'}));
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static void write(const std::string& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }

  std::string root_;
};

TEST_F(DicomSeriesOnDisk, FolderAndOneOfItsFiles) {
  const build::Image base{10, 6, 3, 1, 11};
  for (const std::string& path : {root_ + "/one", root_ + "/one/a2.dcm"}) {
    SCOPED_TRACE(path);
    const OpenedSeries opened = open_series(path);
    EXPECT_EQ(opened.source->count(), 3u);
    EXPECT_EQ(opened.index.file_count, 3u);
    EXPECT_EQ(opened.index.levels.size(), 2u);
    const slide::Slide s = slide::Slide::open(path);
    ASSERT_EQ(s.level_count(), 2u);
    EXPECT_EQ(s.index().format, "DICOM");
    EXPECT_EQ(bytes_of(s.read_region(0, 0, 0, 10, 6)), base.region(0, 0, 10, 6));
    EXPECT_EQ(bytes_of(s.read_associated("label")), (build::Image{6, 4, 3, 1, 13}.region(0, 0, 6, 4)));
    // Level 0 is the folder's second file: its tiles' offsets are in the second file's range.
    EXPECT_EQ(io::FileSeries::base_of(1),
              s.level(0).image.tile_offsets[0] & ~(io::FileSeries::part_stride - 1));
  }
}

TEST_F(DicomSeriesOnDisk, FolderOfTwoSeriesIsAUsageErrorAndAFileOpensItsOwn) {
  try {
    slide::Slide::open(root_ + "/two");
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(root_ + "/two: the files hold 2 whole slide image series"),
              std::string::npos)
        << e.what();
  }
  const slide::Slide b = slide::Slide::open(root_ + "/two/b0.dcm");
  EXPECT_EQ(b.index().file_count, 1u);
  ASSERT_EQ(b.level_count(), 1u);
  EXPECT_EQ(b.level(0).image.width, 12u);
  EXPECT_EQ(bytes_of(b.read_region(0, 0, 0, 12, 8)), (build::Image{12, 8, 3, 1, 21}.region(0, 0, 12, 8)));
  const slide::Slide a = slide::Slide::open(root_ + "/two/a0.dcm");
  EXPECT_EQ(a.index().file_count, 3u);
  EXPECT_EQ(a.level_count(), 2u);
}

}  // namespace
}  // namespace tilestream::dicom
