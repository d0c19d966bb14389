// A DICOM series given as a list of files (slide::Slide::open(paths), dicom::open_files): exactly those
// files are read, wherever they lie; a file that is not DICOM, or files of two series, are refused by
// name. And a file's series found in its folder beside files of another series or broken ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dicom/dicom_bytes.hpp"
#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::dicom {
namespace {

namespace build = testing::dicom;
using build::Bytes;

Bytes level_file(const build::Image& image, const std::string& series, const std::string& instance) {
  build::WsiFile f;
  f.series = series;
  f.instance = instance;
  f.width = image.width;
  f.height = image.height;
  f.pixels.frames = image.frames(f.tile_width, f.tile_height);
  return f.bytes();
}

void write(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes pixels_of(const HostImage& image) { return {image.data(), image.data() + image.size_bytes()}; }

class DicomFileList : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::temp_path("list");
    std::filesystem::create_directories(root_ + "/a");
    std::filesystem::create_directories(root_ + "/b");
    // Series 1: level 0 in folder a, level 1 in folder b, beside a file of series 2.
    write(root_ + "/a/level0.dcm", level_file(big_, "1.2.826.0.1.3680043.10.9.30", "1.2.826.0.1.3680043.10.9.30.1"));
    write(root_ + "/b/level1.dcm", level_file(small_, "1.2.826.0.1.3680043.10.9.30", "1.2.826.0.1.3680043.10.9.30.2"));
    write(root_ + "/b/other.dcm", level_file(small_, "1.2.826.0.1.3680043.10.9.31", "1.2.826.0.1.3680043.10.9.31.1"));
    write(root_ + "/b/notes.txt", Bytes(300, std::byte{'x'}));
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string root_;
  const build::Image big_{10, 6, 3, 1, 1};
  const build::Image small_{5, 3, 3, 1, 2};
};

TEST_F(DicomFileList, ReadsExactlyTheFilesGiven) {
  const slide::Slide s = slide::Slide::open(std::vector<std::string>{root_ + "/a/level0.dcm", root_ + "/b/level1.dcm"});
  EXPECT_EQ(s.index().file_count, 2u);
  ASSERT_EQ(s.level_count(), 2u);
  EXPECT_EQ(pixels_of(s.read_level(0)), big_.region(0, 0, 10, 6));
  EXPECT_EQ(pixels_of(s.read_level(1)), small_.region(0, 0, 5, 3));
  // The folder of one of them holds another series too: opening that file alone finds its own series
  // in its folder, without level 0, which lies elsewhere.
  const slide::Slide alone = slide::Slide::open(root_ + "/b/level1.dcm");
  EXPECT_EQ(alone.level_count(), 1u);
  EXPECT_EQ(alone.level(0).image.width, 5u);
}

TEST_F(DicomFileList, ANonDicomFileIsNamed) {
  try {
    slide::Slide::open(std::vector<std::string>{root_ + "/a/level0.dcm", root_ + "/b/notes.txt"});
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("notes.txt: not a DICOM file"), std::string::npos) << e.what();
  }
}

TEST_F(DicomFileList, FilesOfTwoSeriesAreAUsageError) {
  try {
    slide::Slide::open(std::vector<std::string>{root_ + "/a/level0.dcm", root_ + "/b/other.dcm"});
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("the files hold 2 whole slide image series"), std::string::npos) << e.what();
  }
}

// A file opens its series beside a broken DICOM file of its folder (passed over, as OpenSlide does);
// opening the folder, which takes every file in it, names the broken one.
TEST_F(DicomFileList, ABrokenNeighbourIsPassedOverByAFileNotByItsFolder) {
  Bytes broken(128, std::byte{0});
  for (const char c : std::string("DICMgarbage")) broken.push_back(static_cast<std::byte>(c));
  write(root_ + "/b/broken.dcm", broken);
  EXPECT_EQ(slide::Slide::open(root_ + "/b/level1.dcm").level_count(), 1u);
  try {
    slide::Slide::open(root_ + "/b");
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.dcm: "), std::string::npos) << e.what();
  }
}

TEST_F(DicomFileList, AnEmptyListIsAUsageError) {
  EXPECT_THROW(slide::Slide::open(std::vector<std::string>{}), UsageError);
}

}  // namespace
}  // namespace tilestream::dicom
