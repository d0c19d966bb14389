// Malformed DICOM whole slide images as data: a well-formed instance (10 x 6 RGB in 4 x 4 frames,
// tests/dicom/dicom_bytes.hpp), one mutation, and the error it must give, when the series is indexed
// or when its level is read: the error's kind and the parts of its one-line message that name the
// file and the place (frame number, element tag, offset, transfer syntax).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "dicom/dicom_bytes.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/dicom/series.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::dicom {
namespace {

namespace build = testing::dicom;
using build::Bytes;

const build::Image image{10, 6, 3, 1, 1};

build::WsiFile native() {
  build::WsiFile f;
  f.pixels.frames = image.frames(4, 4);
  return f;
}

// Six frames of arbitrary bytes as fragments (the tests fail before any is decoded).
build::WsiFile encapsulated(const char* syntax, build::OffsetTable table) {
  build::WsiFile f = native();
  f.syntax = syntax;
  f.photometric = "YBR_FULL_422";
  f.pixels.encapsulated = true;
  f.pixels.table = table;
  for (std::size_t k = 0; k < f.pixels.frames.size(); ++k)
    f.pixels.frames[k] = Bytes(10 + k, std::byte{0x55});
  return f;
}

// The offset of the first occurrence of `pattern` at or after 132.
std::uint64_t find(const Bytes& bytes, const Bytes& pattern) {
  const auto at = std::search(bytes.begin() + 132, bytes.end(), pattern.begin(), pattern.end());
  EXPECT_NE(at, bytes.end());
  return static_cast<std::uint64_t>(at - bytes.begin());
}

Bytes tag_bytes(std::uint32_t t) {
  Bytes out;
  build::put_tag(out, t);
  return out;
}

struct Case {
  const char* name;
  std::function<Bytes()> file;
  bool when_read;  // the series indexes (the level listed with its damage); reading the level fails
  ErrorKind kind;
  std::vector<std::string> says;  // besides the file's name, "file0.dcm"
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"NativeShortByAFrame",
       [] {
         build::WsiFile f = native();
         f.number_of_frames = 6;
         f.pixels.frames.pop_back();
         return f.bytes();
       },
       true,
       ErrorKind::format,
       {"PixelData (7FE0,0010) at offset", "NumberOfFrames is 6: frame 6 is missing"}},
      {"FragmentFewerThanFrames",
       [] {
         build::WsiFile f = encapsulated(build::jpeg_baseline, build::OffsetTable::empty_basic);
         f.number_of_frames = 6;
         f.pixels.frames.pop_back();
         return f.bytes();
       },
       true,
       ErrorKind::format,
       {"holds 5 fragments; NumberOfFrames is 6: frame 6 is missing"}},
      {"BasicOffsetTableListsFewerFrames",
       [] {
         build::WsiFile f = encapsulated(build::jpeg_baseline, build::OffsetTable::basic);
         f.pixels.starts = {0, 1, 2, 3};
         return f.bytes();
       },
       true,
       ErrorKind::format,
       {"the Basic Offset Table lists 4 frames; NumberOfFrames is 6: frame 5 is missing"}},
      {"BasicOffsetTableOffOfTheFragments",
       [] {
         build::WsiFile f = encapsulated(build::jpeg_baseline, build::OffsetTable::basic);
         Bytes bytes = f.bytes();
         // The Basic Offset Table's third entry moved back by 2 bytes: no fragment starts there.
         const std::uint64_t table = find(bytes, tag_bytes(build::tag(0x7FE0, 0x0010))) + 12 + 8;
         bytes[table + 8] = static_cast<std::byte>(std::to_integer<int>(bytes[table + 8]) - 2);
         return bytes;
       },
       true,
       ErrorKind::format,
       {"frame 3 starts at item offset 36 by the Basic Offset Table", "the frame is missing"}},
      {"ExtendedOffsetTableListsFewerFrames",
       [] {
         build::WsiFile f = encapsulated(build::jpeg_baseline, build::OffsetTable::extended);
         f.pixels.starts = {0, 1, 2, 3, 4};
         return f.bytes();
       },
       true,
       ErrorKind::format,
       {"the Extended Offset Table lists 5 frames; NumberOfFrames is 6: frame 6 is missing"}},
      {"ExtendedOffsetTablePastTheEnd",
       [] {
         build::WsiFile f = encapsulated(build::jpeg_baseline, build::OffsetTable::empty_basic);
         build::DataSet set = f.data_set();
         build::add_extended_offset_table(set, f.pixels);
         set.elements[build::tag(0x7FE0, 0x0001)].value[5 * 8 + 2] = std::byte{0x01};  // frame 6: + 64 KiB
         return build::part10(f.syntax, set, &f.pixels);
       },
       true,
       ErrorKind::format,
       {"frame 6 at offset ", "from the Extended Offset Table", "the file is truncated"}},
      {"NativeCutInsidePixelData",
       [] {
         Bytes bytes = native().bytes();
         bytes.resize(bytes.size() - 10);
         return bytes;
       },
       true,
       ErrorKind::format,
       {"frame 6 at offset ", "lies past the end of the file", "the file is truncated"}},
      {"EncapsulatedCutInsideAFragment",
       [] {
         Bytes bytes = encapsulated(build::jpeg_baseline, build::OffsetTable::empty_basic).bytes();
         bytes.resize(bytes.size() - 12);  // the delimiter and 4 bytes of the last fragment
         return bytes;
       },
       true,
       ErrorKind::format,
       {"PixelData (7FE0,0010) fragment 6 at offset ", "the file is truncated"}},
      {"EncapsulatedCutBeforeTheDelimiter",
       [] {
         Bytes bytes = encapsulated(build::jpeg_baseline, build::OffsetTable::empty_basic).bytes();
         bytes.resize(bytes.size() - 8);
         return bytes;
       },
       true,
       ErrorKind::format,
       {"ends with the file after 6 fragments", "without its sequence delimiter"}},
      {"CutInsideTheDataSet",
       [] {
         Bytes bytes = native().bytes();
         bytes.resize(find(bytes, tag_bytes(build::tag(0x0048, 0x0006))) + 9);
         return bytes;
       },
       false,
       ErrorKind::format,
       {"an element's value at offset ", "the file ends at "}},
      {"FrameSpanningTwoFragments",
       [] {
         build::WsiFile f = encapsulated(build::jpeg_baseline, build::OffsetTable::basic);
         f.number_of_frames = 5;
         f.pixels.starts = {0, 2, 3, 4, 5};  // frame 1: fragments 1 and 2
         return f.bytes();
       },
       true,
       ErrorKind::unsupported,
       {"frame 1 spans several fragments"}},
      {"MoreFragmentsThanFramesWithoutATable",
       [] {
         build::WsiFile f = encapsulated(build::jpeg_baseline, build::OffsetTable::empty_basic);
         f.number_of_frames = 5;
         return f.bytes();
       },
       true,
       ErrorKind::unsupported,
       {"holds 6 fragments for 5 frames and no offset table"}},
      {"TiledFullMissingAFrame",
       [] {
         build::WsiFile f = native();
         f.pixels.frames.pop_back();
         return f.bytes();
       },
       true,
       ErrorKind::format,
       {"needs 6 frames; frame 6 is missing (NumberOfFrames 5)"}},
      {"SparseFrameOffTheGrid",
       [] {
         build::WsiFile f = native();
         f.organization = "TILED_SPARSE";
         f.pixels.frames.resize(2);
         f.positions = {{1, 1}, {3, 1}};
         return f.bytes();
       },
       true,
       ErrorKind::unsupported,
       {"frame 2 lies at column 3, row 1, off the grid of 4 x 4 tiles", "(level 0)"}},
      {"SparseFrameOutsideTheMatrix",
       [] {
         build::WsiFile f = native();
         f.organization = "TILED_SPARSE";
         f.pixels.frames.resize(2);
         f.positions = {{1, 1}, {13, 1}};
         return f.bytes();
       },
       true,
       ErrorKind::unsupported,
       {"frame 2 lies at column 13, row 1", "inside the 10 x 6 pixel matrix"}},
      {"TwoFramesAtOnePosition",
       [] {
         build::WsiFile f = native();
         f.organization = "TILED_SPARSE";
         f.pixels.frames.resize(3);
         f.positions = {{1, 1}, {5, 1}, {5, 1}};
         return f.bytes();
       },
       true,
       ErrorKind::format,
       {"frames 2 and 3 both lie at column 5, row 1"}},
      {"SparseFrameWithoutAPosition",
       [] {
         build::WsiFile f = native();
         f.organization = "TILED_SPARSE";
         f.positions = {{1, 1}, {5, 1}};
         return f.bytes();
       },
       false,
       ErrorKind::format,
       {"PerFrameFunctionalGroupsSequence (5200,9230) holds 2 items for 6 frames",
        "frame 3 has no position"}},
      {"JpegLsIsListedNotRead",
       [] { return encapsulated(build::jpeg_ls, build::OffsetTable::empty_basic).bytes(); },
       true,
       ErrorKind::unsupported,
       {"transfer syntax JPEG-LS Lossless (1.2.840.10008.1.2.4.80) is not read"}},
      {"BigEndian",
       [] {
         build::WsiFile f = native();
         f.syntax = build::big_endian;
         return f.bytes();
       },
       false,
       ErrorKind::unsupported,
       {"Explicit VR Big Endian (1.2.840.10008.1.2.2, retired) is not read"}},
      {"PixelMatrixLargerThanTheFile",
       [] {
         build::WsiFile f = native();
         f.width = f.height = 4096;  // 2^20 tiles of 4 x 4 in a file of a few hundred bytes
         return f.bytes();
       },
       false,
       ErrorKind::format,
       {"4096 x 4096 pixels in 1048576 tiles of 4 x 4", "bytes of file", "more tiles than bytes"}},
      {"NoRows",
       [] {
         const build::WsiFile f = native();
         return build::part10(f.syntax, f.data_set().erase(build::tag(0x0028, 0x0010)), &f.pixels);
       },
       false,
       ErrorKind::format,
       {"no Rows (0028,0010)"}},
      {"ColumnsZero",
       [] {
         const build::WsiFile f = native();
         return build::part10(f.syntax, f.data_set().us(build::tag(0x0028, 0x0011), 0), &f.pixels);
       },
       false,
       ErrorKind::format,
       {"Columns (0028,0011) at offset ", " is 0, not a whole number in [1, 65535]"}},
      {"NumberOfFramesNotWhole",
       [] {
         const build::WsiFile f = native();
         return build::part10(f.syntax, f.data_set().text(build::tag(0x0028, 0x0008), "IS", "6.5"),
                              &f.pixels);
       },
       false,
       ErrorKind::format,
       {"NumberOfFrames (0028,0008) at offset ", " is 6.5, not a whole number in [1, 67108864]"}},
      {"ImageTypeOfTwoValues",
       [] {
         const build::WsiFile f = native();
         return build::part10(
             f.syntax, f.data_set().text(build::tag(0x0008, 0x0008), "CS", "ORIGINAL\\PRIMARY"), &f.pixels);
       },
       false,
       ErrorKind::format,
       {"ImageType (0008,0008) has 2 values"}},
      {"BitsAllocated12",
       [] {
         build::WsiFile f = native();
         f.bits = 12;
         return f.bytes();
       },
       true,
       ErrorKind::unsupported,
       {"BitsAllocated 12 is not read"}},
  };
  return all;
}

class DicomMalformed : public ::testing::TestWithParam<Case> {};

TEST_P(DicomMalformed, GivesItsError) {
  const Case& c = GetParam();
  const build::MemorySeries series({c.file()});
  try {
    const tiff::SlideIndex index = index_series(series.parts(), series.name());
    ASSERT_TRUE(c.when_read) << "indexed without an error";
    ASSERT_EQ(index.levels.size(), 1u);
    slide::read_image_region(series, index.levels[0].image, "level 0", 0, 0, 10, 6, 1);
    ADD_FAILURE() << "read without an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.kind(), c.kind) << message;
    EXPECT_EQ(message.rfind("file0.dcm: ", 0), 0u) << message;
    for (const std::string& part : c.says)
      EXPECT_NE(message.find(part), std::string::npos) << part << " in: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(DicomSeries, DicomMalformed, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// NumberOfFrames is the file's word, not its size: 2^26 frames of one pixel, Pixel Data's length
// 0xFFFFFFF0, in a file of a few hundred bytes, must fail on the first frame past the end without
// listing 2^26 frames first (a gigabyte). In a child process whose address space leaves it 256 MiB;
// not under the sanitizers, which map terabytes of shadow memory.
TEST(DicomMalformedBase, FramesCountedBeforeTheyAreListed) {
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  GTEST_SKIP() << "address space limits do not hold under the sanitizers";
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "address space limits do not hold under the sanitizers";
#endif
  build::WsiFile f;
  f.width = f.height = f.tile_width = f.tile_height = 1;
  f.samples = 1;
  f.photometric = "MONOCHROME2";
  f.number_of_frames = std::int64_t{1} << 26;
  f.pixels.frames = {Bytes(2, std::byte{1})};
  Bytes bytes = f.bytes();
  const std::uint64_t length_at = find(bytes, tag_bytes(build::tag(0x7FE0, 0x0010))) + 8;
  for (int k = 0; k < 4; ++k)
    bytes[length_at + k] = std::byte{static_cast<unsigned char>(k == 0 ? 0xF0 : 0xFF)};
  const std::uint64_t past = bytes.size();
  const build::MemorySeries series({bytes});
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t pages = 0;
    statm >> pages;
    const rlim_t limit = pages * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + (rlim_t{256} << 20);
    const rlimit address_space{limit, limit};
    ::setrlimit(RLIMIT_AS, &address_space);
    try {
      const tiff::SlideIndex index = index_series(series.parts(), series.name());
      // The damage is the level's: listed, and thrown when the level is read.
      index.levels.at(0).image.check_readable("level 0");
      ::_exit(3);  // no error
    } catch (const FormatError& e) {
      const std::string message = e.what();
      ::_exit(message.find("file0.dcm: frame 3 at offset " + std::to_string(past)) == 0 ? 0 : 4);
    } catch (const std::bad_alloc&) {
      ::_exit(5);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: no error, 4: another message, 5: out of memory";
}

// The well-formed instances the cases mutate index and read.
TEST(DicomMalformedBase, UnmutatedFilesRead) {
  for (const Bytes& bytes :
       {native().bytes(), encapsulated(build::jpeg_ls, build::OffsetTable::basic).bytes()}) {
    const build::MemorySeries series({bytes});
    const tiff::SlideIndex index = index_series(series.parts(), series.name());
    ASSERT_EQ(index.levels.size(), 1u);
    EXPECT_EQ(index.levels[0].image.width, 10u);
  }
  const build::MemorySeries series({native().bytes()});
  const tiff::SlideIndex index = index_series(series.parts(), series.name());
  EXPECT_EQ(slide::read_image_region(series, index.levels[0].image, "level 0", 0, 0, 10, 6, 1).size_bytes(),
            180u);
}

}  // namespace
}  // namespace tilestream::dicom
