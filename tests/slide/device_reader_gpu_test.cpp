// DeviceReader equals Slide::read_region (the CPU path) byte for byte for every io backend (posix,
// direct, gds): synthetic slides of every storage kind (raw tiles with odd sizes, deflate, JPEG,
// uint16, 1 and 4 samples, big-endian 16-bit, predictor, strips), regions (whole level, unaligned,
// one pixel, edges), 1 and 8 threads, one tile per task and many (one reader reused for all of them);
// and the shared real slides when present.
#include "tilestream/slide/device_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <tuple>
#include <string>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/store_files.hpp"
#include "support/temp_path.hpp"
#include "support/testdata.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/io/cufile.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::slide {
namespace {

using cuda::DeviceImage;
using cuda::Stream;
using tilestream::testing::disk_path;
using tilestream::testing::files_of;

namespace compression = codec::compression;

struct SlideCase {
  std::string name;
  synth::SynthOptions options;
  const char* expected_path;  // for level 0
};

synth::SynthOptions make(std::uint64_t width, std::uint64_t height, std::uint32_t tile, std::uint16_t comp,
                         std::uint32_t samples = 3, DType dtype = DType::uint8) {
  synth::SynthOptions o;
  o.width = width;
  o.height = height;
  o.tile = tile;
  o.compression = comp;
  o.samples = samples;
  o.dtype = dtype;
  o.levels = 2;
  o.threads = 2;
  return o;
}

std::vector<SlideCase> slide_cases() {
  std::vector<SlideCase> cases = {
      {"raw_rgb_odd", make(301, 203, 64, compression::none), raw_tiles_path},
      {"raw_gray", make(257, 130, 32, compression::none, 1), raw_tiles_path},
      {"raw_rgba", make(200, 99, 48, compression::none, 4), raw_tiles_path},
      {"raw_uint16", make(150, 77, 32, compression::none, 3, DType::uint16), raw_tiles_path},
      {"raw_uint16_gray", make(97, 65, 16, compression::none, 1, DType::uint16), raw_tiles_path},
      {"deflate_rgb", make(301, 203, 64, compression::deflate), cpu_decode_path},
      {"jpeg_rgb", make(320, 200, 64, compression::jpeg), cpu_decode_path},
      {"deflate_uint16_gray", make(130, 70, 32, compression::deflate, 1, DType::uint16), cpu_decode_path},
  };
  SlideCase big_endian{"raw_uint16_big_endian", make(150, 77, 32, compression::none, 3, DType::uint16),
                       cpu_decode_path};
  big_endian.options.big_endian = true;
  cases.push_back(big_endian);
  SlideCase big_endian_8{"raw_uint8_big_endian", make(150, 77, 32, compression::none), raw_tiles_path};
  big_endian_8.options.big_endian = true;
  cases.push_back(big_endian_8);
  SlideCase predictor{"deflate_predictor", make(150, 77, 32, compression::deflate), cpu_decode_path};
  predictor.options.predictor = true;
  cases.push_back(predictor);
  SlideCase strips{"raw_strips", make(150, 77, 32, compression::none), cpu_decode_path};
  strips.options.tiled = false;
  strips.options.rows_per_strip = 10;
  cases.push_back(strips);
  return cases;
}

struct Region {
  std::uint64_t x, y, width, height;
};

// Regions of a width x height level: whole, unaligned inner, one pixel (corner and middle), edges.
std::vector<Region> regions_of(std::uint64_t width, std::uint64_t height) {
  return {{0, 0, width, height},
          {3, 5, width / 2 + 1, height / 2 + 3},
          {0, 0, 1, 1},
          {width - 1, height - 1, 1, 1},
          {width / 2, height / 3, 1, 1},
          {width - 7, 0, 7, height},
          {0, height - 3, width, 3}};
}


const char* io_name(io::IoMode mode) { return io::to_string(mode); }

// Skips the test when `mode` cannot run here (gds without libcufile), saying why.
#define SKIP_UNLESS_IO_RUNS(mode)                                                         \
  do {                                                                                    \
    std::string why_not;                                                                  \
    if ((mode) == io::IoMode::gds && !io::gds::available(&why_not)) GTEST_SKIP() << why_not;  \
  } while (false)

void expect_same_pixels(const slide::Slide& slide, std::size_t level, const Region& r, DeviceReader& reader,
                        const char* expected_path, const std::string& what) {
  SCOPED_TRACE(what + concat(" level ", level, " region ", r.x, ",", r.y, " ", r.width, "x", r.height,
                             ", ", reader.threads(), " threads, io ", io_name(reader.io_mode())));
  const HostImage cpu = slide.read_region(level, r.x, r.y, r.width, r.height, {reader.threads()});
  DeviceReadReport report;
  const DeviceImage gpu = reader.read_region(slide, level, r.x, r.y, r.width, r.height, &report);
  if (expected_path != nullptr) {
    EXPECT_EQ(report.path, expected_path);
  }
  if (report.path == raw_tiles_path) {
    EXPECT_EQ(report.io, reader.io_mode());
    EXPECT_GT(report.tasks, 0u);
  } else {
    EXPECT_EQ(report.io, io::IoMode::posix);  // decoded tiles are read with pread, and the report says so
  }
  EXPECT_FALSE(report.io_detail.empty());
  EXPECT_GT(report.bytes_read, 0u);
  EXPECT_GE(report.seconds, 0.0);
  ASSERT_EQ(gpu.height(), r.height);
  ASSERT_EQ(gpu.width(), r.width);
  ASSERT_EQ(gpu.samples(), cpu.samples());
  ASSERT_EQ(gpu.dtype(), cpu.dtype());
  const Stream stream;
  const HostImage back = gpu.to_host(stream);
  ASSERT_EQ(back.size_bytes(), cpu.size_bytes());
  EXPECT_TRUE(std::equal(back.bytes().begin(), back.bytes().end(), cpu.bytes().begin()));
}

using ReadCase = std::tuple<SlideCase, io::IoMode>;

// Where no device runs (no GPU, or no driver), making a reader is a UsageError that says why, not a
// CudaError from the first CUDA call: the Python API and the CLI both rely on it.
TEST(DeviceReaderWithoutDevice, IsAUsageErrorThatSaysWhy) {
  if (cuda::device_count() > 0) GTEST_SKIP() << "a CUDA device is present";
  try {
    DeviceReader reader;
    ADD_FAILURE() << "a reader without a device";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

class ReadToDevice : public testing::CudaTestWithParam<ReadCase> {};

TEST_P(ReadToDevice, EqualsTheCpuPath) {
  const auto& [c, mode] = GetParam();
  SKIP_UNLESS_IO_RUNS(mode);
  const std::string path = disk_path("slide.tif");
  synth::write_synthetic_slide(path, c.options);
  {
    const slide::Slide slide = slide::Slide::open(path);
    for (const unsigned threads : {1u, 8u}) {
      for (const std::size_t task : {std::size_t{1}, std::size_t{4} << 20}) {  // 1: one tile a task
        DeviceReaderOptions options;
        options.decode = codec::DecodeMode::cpu;  // the CPU decoder: pixels equal bit for bit
        options.threads = threads;
        options.task_bytes = task;
        options.io = mode;
        DeviceReader reader(options);  // one reader for every level and region: reuse is the point
        EXPECT_EQ(reader.io_mode(), mode);
        for (std::size_t level = 0; level < slide.level_count(); ++level) {
          const tiff::ImageInfo& image = slide.level(level).image;
          for (const Region& r : regions_of(image.width, image.height)) {
            expect_same_pixels(slide, level, r, reader, level == 0 ? c.expected_path : nullptr, c.name);
          }
        }
      }
    }
  }
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Synthetic, ReadToDevice,
                         ::testing::Combine(::testing::ValuesIn(slide_cases()),
                                            ::testing::Values(io::IoMode::posix, io::IoMode::direct, io::IoMode::gds)),
                         [](const auto& p) {
                           return std::get<0>(p.param).name + "_" + io::to_string(std::get<1>(p.param));
                         });

class DeviceReaderIo : public testing::CudaTest {};

TEST_F(DeviceReaderIo, AutoPicksAModeAndSaysWhy) {
  DeviceReaderOptions options;
  options.decode = codec::DecodeMode::cpu;  // the CPU decoder: pixels equal bit for bit
  options.io = io::IoMode::automatic;
  options.threads = 2;
  const DeviceReader reader(options);
  EXPECT_NE(reader.io_mode(), io::IoMode::automatic);
  EXPECT_NE(reader.io_mode(), io::IoMode::direct);
  EXPECT_NE(reader.io_detail().find("auto chose"), std::string::npos) << reader.io_detail();
  EXPECT_GT(reader.setup_seconds(), 0.0);
}

TEST_F(DeviceReaderIo, GdsSaysWhichModeRuns) {
  SKIP_UNLESS_IO_RUNS(io::IoMode::gds);
  DeviceReaderOptions options;
  options.decode = codec::DecodeMode::cpu;  // the CPU decoder: pixels equal bit for bit
  options.io = io::IoMode::gds;
  options.threads = 2;
  const DeviceReader reader(options);
  EXPECT_EQ(reader.io_mode(), io::IoMode::gds);
  const io::gds::DriverInfo& info = io::gds::driver();
  EXPECT_NE(reader.io_detail().find(info.mode), std::string::npos) << reader.io_detail();
  std::cout << "[ info     ] gds: " << info.mode << " (" << info.library << ")\n";
}

TEST_F(DeviceReaderIo, TruncatedFileNamesFileAndOffsetOnEveryBackend) {
  const std::string path = disk_path("truncated.tif");
  synth::write_synthetic_slide(path, make(300, 200, 64, compression::none));
  const slide::Slide slide = slide::Slide::open(path);  // indexed while whole
  const tiff::ImageInfo& image = slide.level(0).image;
  const std::uint64_t last = image.tile_offsets[image.tile_number(0, 0)];
  std::filesystem::resize_file(path, last + 100);  // cuts into the first tile's bytes
  for (const io::IoMode mode : {io::IoMode::posix, io::IoMode::direct, io::IoMode::gds}) {
    if (mode == io::IoMode::gds && !io::gds::available()) continue;
    SCOPED_TRACE(io_name(mode));
    DeviceReaderOptions options;
    options.decode = codec::DecodeMode::cpu;  // the CPU decoder: pixels equal bit for bit
    options.io = mode;
    options.threads = 2;
    DeviceReader reader(options);
    try {
      (void)reader.read_level(slide, 0);
      ADD_FAILURE() << "no error for a truncated file";
    } catch (const IoError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      EXPECT_NE(message.find("offset"), std::string::npos) << message;
    }
  }
  std::filesystem::remove(path);
}

class ReadToDeviceErrors : public testing::CudaTest {};

TEST_F(ReadToDeviceErrors, RegionOutsideTheLevelIsAUsageError) {
  const std::string path = tilestream::testing::temp_path("slide.tif");
  synth::write_synthetic_slide(path, make(100, 60, 32, compression::none));
  {
    const slide::Slide slide = slide::Slide::open(path);
    EXPECT_THROW(read_region_to_device(slide, 0, 90, 0, 20, 10), UsageError);
    EXPECT_THROW(read_region_to_device(slide, 0, 0, 0, 0, 10), UsageError);
    EXPECT_THROW(read_region_to_device(slide, 7, 0, 0, 1, 1), UsageError);
    DeviceReaderOptions bad_device;
    bad_device.device = 1000;
    EXPECT_THROW(read_region_to_device(slide, 0, 0, 0, 1, 1, bad_device), UsageError);
  }
  std::filesystem::remove(path);
}

class ReadToDeviceTestdata : public testing::CudaTestWithParam<std::string> {};

TEST_P(ReadToDeviceTestdata, EqualsTheCpuPath) {
  TILESTREAM_REQUIRE_TESTDATA(path, GetParam());
  const slide::Slide slide = slide::Slide::open(path);
  for (const io::IoMode mode : {io::IoMode::posix, io::IoMode::direct, io::IoMode::gds}) {
    if (mode == io::IoMode::gds && !io::gds::available()) continue;
    DeviceReaderOptions options;
    options.decode = codec::DecodeMode::cpu;  // the CPU decoder: pixels equal bit for bit
    options.threads = 8;
    options.io = mode;
    DeviceReader reader(options);
    for (std::size_t level = 0; level < slide.level_count(); ++level) {
      const tiff::ImageInfo& image = slide.level(level).image;
      if (!image.unsupported_reason.empty()) continue;
      const std::uint64_t w = std::min<std::uint64_t>(image.width, 3000);
      const std::uint64_t h = std::min<std::uint64_t>(image.height, 3000);
      const Region regions[] = {{0, 0, w, h}, {image.width - w / 2 - 1, image.height - h / 3 - 1, w / 2, h / 3}};
      for (const Region& r : regions) expect_same_pixels(slide, level, r, reader, nullptr, GetParam());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, ReadToDeviceTestdata,
                         ::testing::Values("aperio/CMU-1-Small-Region.svs", "derived/cmu1-crop-tiled-raw.tif",
                                           "derived/cmu1-pyramid-deflate-pred.tif"),
                         [](const auto& p) {
                           std::string name = p.param;
                           std::replace_if(name.begin(), name.end(), [](char ch) { return !std::isalnum(ch); }, '_');
                           return name;
                         });

}  // namespace
}  // namespace tilestream::slide
