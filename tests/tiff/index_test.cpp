// The index of every shared real slide: vendor, levels, associated images, properties.
#include <gtest/gtest.h>

#include "support/testdata.hpp"
#include "tilestream/tiff/slide_index.hpp"

namespace tilestream::tiff {
namespace {

SlideIndex index_of(const std::string& path) {
  io::ReadFile file(path);
  return parse_slide_index(file);
}

struct Expected {
  const char* file;
  const char* vendor;
  bool big_tiff;
  bool big_endian;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> level_sizes;  // width, height
  std::vector<std::string> associated;
  std::uint16_t compression;
};

class RealSlideIndex : public ::testing::TestWithParam<Expected> {};

TEST_P(RealSlideIndex, MatchesKnownStructure) {
  const Expected& e = GetParam();
  TILESTREAM_REQUIRE_TESTDATA(path, e.file);
  const SlideIndex index = index_of(path);
  EXPECT_EQ(index.vendor, e.vendor);
  EXPECT_EQ(index.big_tiff, e.big_tiff);
  EXPECT_EQ(index.big_endian, e.big_endian);
  ASSERT_EQ(index.levels.size(), e.level_sizes.size());
  for (std::size_t k = 0; k < e.level_sizes.size(); ++k) {
    EXPECT_EQ(index.levels[k].image.width, e.level_sizes[k].first) << "level " << k;
    EXPECT_EQ(index.levels[k].image.height, e.level_sizes[k].second) << "level " << k;
    EXPECT_EQ(index.levels[k].image.compression, e.compression) << "level " << k;
    EXPECT_TRUE(index.levels[k].image.unsupported_reason.empty()) << index.levels[k].image.unsupported_reason;
  }
  ASSERT_EQ(index.associated.size(), e.associated.size());
  for (std::size_t i = 0; i < e.associated.size(); ++i) EXPECT_EQ(index.associated[i].name, e.associated[i]);
  EXPECT_EQ(index.properties.at("openslide.level-count"), std::to_string(e.level_sizes.size()));
}

INSTANTIATE_TEST_SUITE_P(
    SharedTestdata, RealSlideIndex,
    ::testing::Values(
        Expected{"aperio/CMU-1-Small-Region.svs", "aperio", false, false, {{2220, 2967}},
                 {"thumbnail", "label", "macro"}, 7},
        Expected{"derived/cmu1-pyramid-jpeg-bigtiff.tif", "generic-tiff", true, false,
                 {{2220, 2967}, {1110, 1483}, {555, 741}, {277, 370}, {138, 185}}, {}, 7},
        Expected{"derived/cmu1-pyramid-lzw.tif", "generic-tiff", false, false,
                 {{2220, 2967}, {1110, 1483}, {555, 741}, {277, 370}, {138, 185}}, {}, 5},
        Expected{"derived/cmu1-pyramid-deflate-pred.tif", "generic-tiff", false, false,
                 {{2220, 2967}, {1110, 1483}, {555, 741}, {277, 370}}, {}, 8},
        Expected{"derived/cmu1-bigendian-zip-pred-128.tif", "generic-tiff", false, true, {{2220, 2967}}, {}, 8},
        Expected{"derived/cmu1-crop-strips-lzw.tif", "generic-tiff", false, false, {{1000, 1200}}, {}, 5},
        Expected{"derived/cmu1-crop-tiled-raw.tif", "generic-tiff", false, false, {{1000, 1200}}, {}, 1},
        Expected{"hamamatsu/test3-DAPI-2-387.ndpi", "hamamatsu", false, false,
                 {{3968, 4864}, {1984, 2432}, {992, 1216}, {496, 608}, {248, 304}, {124, 152}, {62, 76}},
                 {"macro", "map"}, 7},
        Expected{"ome/4D-series.ome.tiff", "ome", false, true, {{439, 167}}, {}, 1}));

TEST(AperioIndex, ParsesDescriptionIntoProperties) {
  TILESTREAM_REQUIRE_TESTDATA(path, "aperio/CMU-1-Small-Region.svs");
  const SlideIndex index = index_of(path);
  EXPECT_EQ(index.properties.at("aperio.MPP"), "0.4990");
  EXPECT_EQ(index.properties.at("aperio.AppMag"), "20");
  EXPECT_EQ(index.properties.at("aperio.ScanScope ID"), "CPAPERIOCS");
  // OpenSlide's values (openslide-python 1.4.7, OpenSlide 4.0.1): numbers re-printed, not copied.
  EXPECT_EQ(index.properties.at("openslide.mpp-x"), "0.499");
  EXPECT_EQ(index.properties.at("openslide.objective-power"), "20");
  EXPECT_EQ(index.properties.at("openslide.quickhash-1"),
            "6335ea0e6cc54c2cba64bb265d3c713a50cd84484924e3a9c109558c13521d5c");
  EXPECT_EQ(index.properties.at("openslide.comment"), index.properties.at("tiff.ImageDescription"));
  EXPECT_EQ(index.properties.at("openslide.associated.macro.width"), "1280");
  EXPECT_EQ(index.properties.at("openslide.associated.label.height"), "463");
  EXPECT_EQ(index.properties.at("tiff.ResolutionUnit"), "inch");
  const ImageInfo& level0 = index.levels[0].image;
  EXPECT_TRUE(level0.tiled);
  EXPECT_EQ(level0.tile_width, 240u);
  EXPECT_EQ(level0.photometric, 2);  // RGB-encoded JPEG, as Aperio writes it
  EXPECT_FALSE(level0.jpeg_tables.empty());
  EXPECT_EQ(level0.tile_offsets.size(), 10u * 13u);
  const ImageInfo& label = index.associated[1].image;
  EXPECT_EQ(label.compression, 5);
  EXPECT_EQ(label.predictor, 2);
  EXPECT_FALSE(label.tiled);
  EXPECT_EQ(label.tile_height, 7u);
  EXPECT_EQ(label.stored_rows(label.tiles_down() - 1), 463u % 7u == 0 ? 7u : 463u % 7u);
}

TEST(GenericIndex, DownsamplesAverageBothAxes) {
  TILESTREAM_REQUIRE_TESTDATA(path, "derived/cmu1-pyramid-lzw.tif");
  const SlideIndex index = index_of(path);
  EXPECT_DOUBLE_EQ(index.levels[0].downsample, 1.0);
  EXPECT_DOUBLE_EQ(index.levels[1].downsample, (2220.0 / 1110 + 2967.0 / 1483) / 2);
  EXPECT_DOUBLE_EQ(index.levels[4].downsample, (2220.0 / 138 + 2967.0 / 185) / 2);
  // Printed as OpenSlide prints them ("%.17g"), and the rest of OpenSlide's properties with them.
  EXPECT_EQ(index.properties.at("openslide.level[2].downsample"), "4.0020242914979756");
  EXPECT_EQ(index.properties.at("openslide.level[4].downsample"), "16.062397179788483");
  EXPECT_EQ(index.properties.at("openslide.mpp-x"), "0.49900000204667971");
  EXPECT_EQ(index.properties.at("tiff.XResolution"), "20040.080078125");
  EXPECT_EQ(index.properties.at("tiff.ResolutionUnit"), "centimeter");
  EXPECT_EQ(index.properties.at("openslide.quickhash-1"),
            "385b56857803f5255267a05273bb7fb59b82b440186c6247d7e1aa9d2fbf0595");
  for (const Level& level : index.levels) EXPECT_EQ(level.image.predictor, 2);
}

TEST(HamamatsuIndex, ReadsVendorTags) {
  TILESTREAM_REQUIRE_TESTDATA(path, "hamamatsu/test3-DAPI-2-387.ndpi");
  const SlideIndex index = index_of(path);
  EXPECT_EQ(index.properties.at("openslide.objective-power"), "40");
  EXPECT_EQ(index.properties.at("openslide.mpp-x"), "0.2281750559028887");
  EXPECT_EQ(index.properties.at("hamamatsu.YOffsetFromSlideCentre"), "-96063");
  EXPECT_EQ(index.properties.at("hamamatsu.Product"), "C9600-12");  // from the NDPI property map
  EXPECT_EQ(index.properties.at("openslide.quickhash-1"),
            "bccad61f3385cdba0dc7f6fcb45cd81b3041ae2439b745901b2f08b648cdcd26");
  EXPECT_EQ(index.associated[1].image.samples, 1u);
  // Levels by restart interval, as OpenSlide and tifffile read them: 660 header bytes before the first.
  const ImageInfo& level0 = index.levels[0].image;
  EXPECT_TRUE(level0.tiled);
  EXPECT_EQ(level0.tile_width, 3968u);
  EXPECT_EQ(level0.tile_height, 8u);
  ASSERT_EQ(level0.tile_offsets.size(), 608u);
  EXPECT_EQ(level0.tile_offsets[0], 4281u + 660u);
  EXPECT_EQ(level0.tile_byte_counts[0], 2752u - 660u);
  EXPECT_EQ(level0.tile_offsets[607] + level0.tile_byte_counts[607], 4281u + 2060686u);
  EXPECT_EQ(level0.jpeg_header.size(), 660u);
  EXPECT_EQ(index.properties.at("openslide.level[0].tile-height"), "8");
  // OpenSlide's levels made by DCT scaling: the smallest stored level's tiles at 1/2, 1/4 and 1/8.
  for (std::size_t k = 0; k < index.levels.size(); ++k) {
    const ImageInfo& level = index.levels[k].image;
    EXPECT_EQ(level.jpeg_scale_denom, k < 4 ? 1u : 1u << (k - 3)) << "level " << k;
    EXPECT_EQ(index.levels[k].downsample, double(1u << k)) << "level " << k;
    if (k >= 4) {
      EXPECT_EQ(level.ifd_label, "IFD 3");
      EXPECT_EQ(level.tile_height, 8u >> (k - 3));
      EXPECT_EQ(level.tile_offsets, index.levels[3].image.tile_offsets);
    }
  }
  EXPECT_EQ(index.properties.at("openslide.level[6].tile-width"), "62");
  EXPECT_FALSE(index.associated[0].image.tiled);  // the macro: one JPEG strip, read whole
  EXPECT_TRUE(index.associated[0].image.jpeg_header.empty());
}

TEST(OmeIndex, SignedSamplesAndBigEndian) {
  TILESTREAM_REQUIRE_TESTDATA(path, "ome/4D-series.ome.tiff");
  const SlideIndex index = index_of(path);
  EXPECT_EQ(index.levels[0].image.dtype, DType::int8);
  EXPECT_GT(index.images.size(), 1u);  // every plane is indexed, only the first is level 0
}

}  // namespace
}  // namespace tilestream::tiff
