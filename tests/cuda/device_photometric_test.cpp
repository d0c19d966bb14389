// Images whose photometric needs a conversion (Palette, MinIsWhite 8 and 16 bit) read on the device
// equal the CPU path byte for byte: DeviceReader regions (the tiles take the CPU decode path, never
// raw placement, since their stored samples are not their pixels), convert on the CUDA backend against
// convert::convert_slide, and the device pipeline against the CPU pipeline. With stored samples
// asked for, raw tiles are placed on the device again and still equal the CPU.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/store_files.hpp"
#include "support/temp_path.hpp"
#include "support/tiff_builder.hpp"
#include "tilestream/convert/convert.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/pipeline/device_backend.hpp"
#include "tilestream/ops/chain.hpp"
#include "tilestream/pipeline/backend.hpp"
#include "tilestream/pipeline/pipeline.hpp"
#include "tilestream/slide/device_reader.hpp"
#include "tilestream/zarr/array.hpp"

namespace tilestream::cuda {
namespace {

using tilestream::testing::disk_path;
using tilestream::testing::files_of;

namespace fs = std::filesystem;

struct PhotometricCase {
  std::string name;
  std::uint16_t photometric;
  DType dtype;
};

std::vector<PhotometricCase> cases() {
  return {{"palette", codec::photometric::palette, DType::uint8},
          {"miniswhite_uint8", codec::photometric::min_is_white, DType::uint8},
          {"miniswhite_uint16", codec::photometric::min_is_white, DType::uint16}};
}

// An uncompressed, tiled, two-level slide of odd size (raw tiles: the device path would place them).
std::string write_slide(const PhotometricCase& c) {
  test::BaseOptions o;
  o.photometric = c.photometric;
  o.samples = 1;
  o.dtype = c.dtype;
  o.width = 301;
  o.height = 203;
  o.tile = 64;
  o.levels = 2;
  if (c.photometric == codec::photometric::palette) {
    std::vector<std::uint64_t> map(3 * 256);
    for (std::size_t i = 0; i < map.size(); ++i) map[i] = (i * 2654435761u) & 0xffff;
    o.extra_tags.push_back({320, test::field::short_, map, {}});
  }
  const test::BaseFile base = test::build_base(o);
  const std::string path = disk_path("slide.tif");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(base.tiff.bytes.data()), static_cast<std::streamsize>(base.tiff.bytes.size()));
  return path;
}

void expect_same_store(const std::string& expected, const std::string& actual, const std::string& what) {
  SCOPED_TRACE(what);
  const auto a = files_of(expected), b = files_of(actual);
  ASSERT_GT(a.size(), 1u);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, bytes] : a) {
    const auto found = b.find(name);
    ASSERT_NE(found, b.end()) << name << " missing";
    EXPECT_TRUE(found->second == bytes) << name << " differs";
  }
}

void expect_device_reads_equal_cpu(const slide::Slide& slide, const char* expected_path) {
  slide::DeviceReaderOptions options;
  options.threads = 4;
  options.io = io::IoMode::posix;
  slide::DeviceReader reader(options);
  for (std::size_t level = 0; level < slide.level_count(); ++level) {
    const tiff::ImageInfo& image = slide.level(level).image;
    const std::uint64_t regions[][4] = {{0, 0, image.width, image.height}, {3, 5, image.width / 2 + 1, image.height / 2 + 3},
                                        {image.width - 7, 0, 7, image.height}};
    for (const auto& r : regions) {
      SCOPED_TRACE(concat("level ", level, " region ", r[0], ",", r[1], " ", r[2], "x", r[3]));
      const HostImage cpu = slide.read_region(level, r[0], r[1], r[2], r[3], {4});
      slide::DeviceReadReport report;
      const DeviceImage gpu = reader.read_region(slide, level, r[0], r[1], r[2], r[3], &report);
      EXPECT_EQ(report.path, expected_path);
      ASSERT_EQ(gpu.samples(), cpu.samples());
      ASSERT_EQ(gpu.dtype(), cpu.dtype());
      const Stream stream;
      const HostImage back = gpu.to_host(stream);
      ASSERT_EQ(back.size_bytes(), cpu.size_bytes());
      EXPECT_TRUE(std::equal(back.bytes().begin(), back.bytes().end(), cpu.bytes().begin()));
    }
  }
}

class DevicePhotometric : public testing::CudaTestWithParam<PhotometricCase> {};

TEST_P(DevicePhotometric, ReadsEqualTheCpuPath) {
  const PhotometricCase& c = GetParam();
  const std::string path = write_slide(c);
  {
    const slide::Slide slide = slide::Slide::open(path);
    ASSERT_FALSE(slide.level(0).image.conversion.identity());
    EXPECT_FALSE(slide::raw_tiles_possible(slide.level(0).image));
    expect_device_reads_equal_cpu(slide, slide::cpu_decode_path);
    const slide::Slide stored = slide::Slide::open(path, {.stored_samples = true});
    EXPECT_TRUE(slide::raw_tiles_possible(stored.level(0).image));
    expect_device_reads_equal_cpu(stored, slide::raw_tiles_path);
  }
  fs::remove(path);
}

TEST_P(DevicePhotometric, ConvertOnDeviceEqualsTheCpuWriter) {
  const PhotometricCase& c = GetParam();
  const std::string path = write_slide(c);
  const std::string cpu_out = disk_path("cpu.zarr"), gpu_out = disk_path("gpu.zarr");
  {
    const slide::Slide slide = slide::Slide::open(path);
    convert::ConvertOptions options;
    options.chunk = 128;
    options.compressors = zarr::parse_codec_option("none");
    options.threads = 4;
    convert::convert_slide(slide, cpu_out, options);
    pipeline::DeviceBackendOptions device_options;
    device_options.io = io::IoMode::posix;
    (void)convert::convert_slide(slide, gpu_out, options, *pipeline::make_device_backend(device_options));
  }
  expect_same_store(cpu_out, gpu_out, c.name);
  fs::remove_all(cpu_out);
  fs::remove_all(gpu_out);
  fs::remove(path);
}

TEST_P(DevicePhotometric, ProcessOnDeviceEqualsTheCpuPipeline) {
  const PhotometricCase& c = GetParam();
  const std::string path = write_slide(c);
  const std::string cpu_out = disk_path("cpu.zarr"), gpu_out = disk_path("gpu.zarr");
  {
    const slide::Slide slide = slide::Slide::open(path);
    const std::vector<std::string> ops{"gaussian:sigma=1.5"};
    const ops::Chain chain = ops::Chain::parse(ops);
    pipeline::ProcessOptions options;
    options.chunk = 128;
    options.compressors = zarr::parse_codec_option("none");
    options.threads = 4;
    options.overwrite = true;
    for (const pipeline::Mode mode : {pipeline::Mode::global, pipeline::Mode::tiled}) {
      options.mode = mode;
      const auto cpu = pipeline::make_cpu_backend();
      (void)pipeline::process_slide(slide, cpu_out, chain, options, *cpu);
      const auto gpu = pipeline::make_device_backend({});
      (void)pipeline::process_slide(slide, gpu_out, chain, options, *gpu);
      expect_same_store(cpu_out, gpu_out, concat(c.name, mode == pipeline::Mode::global ? " global" : " tiled"));
      fs::remove_all(cpu_out);
      fs::remove_all(gpu_out);
    }
  }
  fs::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Photometric, DevicePhotometric, ::testing::ValuesIn(cases()),
                         [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace tilestream::cuda
