// convert on the CUDA backend equals convert on the CPU backend byte for byte (every file, metadata
// included): raw and JPEG slides of odd sizes, uint8 and float32 (the cast op on the device), chunks
// 256 to 2048, layouts yxc and cyx, Zarr v2 and v3, uncompressed (the raw block path), compressed or
// sharded (the encoded path), OME pyramids whose levels are built on the device (downsample2x), in
// tiled and global mode, with the device io modes posix and gds.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/store_files.hpp"
#include "support/temp_path.hpp"
#include "tilestream/convert/convert.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/io/cufile.hpp"
#include "tilestream/pipeline/device_backend.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::cuda {
namespace {

using tilestream::testing::disk_path;
using tilestream::testing::files_of;

namespace fs = std::filesystem;
namespace compression = codec::compression;

struct WriteCase {
  std::string name;
  int zarr_version;
  std::uint64_t chunk;
  std::uint64_t shard;
  std::string codec;
  convert::Layout layout;
  std::optional<DType> dtype;
  bool ome = false;
};

std::vector<WriteCase> write_cases() {
  using convert::Layout;
  return {
      {"v3_raw_256_yxc_uint8", 3, 256, 0, "none", Layout::yxc, std::nullopt},
      {"v3_raw_512_cyx_float32", 3, 512, 0, "none", Layout::cyx, DType::float32},
      {"v3_raw_2048_yxc_float32", 3, 2048, 0, "none", Layout::yxc, DType::float32},
      {"v2_raw_300_cyx_float32", 2, 300, 0, "none", Layout::cyx, DType::float32},
      {"v3_zstd_512_yxc_uint8", 3, 512, 0, "zstd", Layout::yxc, std::nullopt},
      {"v3_sharded_256_1024_yxc_uint8", 3, 256, 1024, "none", Layout::yxc, std::nullopt},
      {"v2_gzip_512_cyx_float32", 2, 512, 0, "gzip:1", Layout::cyx, DType::float32},
      // OME pyramids: the slide stores levels 0 and 1 (2x); 2 to 4 are built on the device.
      {"v3_ome_128_uint8", 3, 128, 0, "zstd", Layout::cyx, std::nullopt, true},
      {"v2_ome_200_float32_raw", 2, 200, 0, "none", Layout::cyx, DType::float32, true},
      {"v3_ome_128_512_sharded", 3, 128, 512, "none", Layout::cyx, std::nullopt, true},
  };
}

struct SlideKind {
  std::string name;
  std::uint16_t compression;
};

using Case = std::tuple<WriteCase, SlideKind, io::IoMode, pipeline::Mode>;

class DeviceConvert : public testing::CudaTestWithParam<Case> {};

TEST_P(DeviceConvert, EqualsTheCpuConversionByteForByte) {
  const auto& [c, kind, mode, run_mode] = GetParam();
  std::string why_not;
  if (mode == io::IoMode::gds && !io::gds::available(&why_not)) GTEST_SKIP() << why_not;
  const std::string slide_path = disk_path("slide.tif");
  synth::SynthOptions synth_options;
  synth_options.width = 2301;  // chunks of 2048 leave a thin edge; no chunk size divides either side
  synth_options.height = 1203;
  synth_options.tile = 256;
  synth_options.compression = kind.compression;
  synth_options.levels = 2;
  synth_options.threads = 4;
  synth::write_synthetic_slide(slide_path, synth_options);
  const std::string cpu_out = disk_path("cpu.zarr"), gpu_out = disk_path("gpu.zarr");
  {
    const slide::Slide slide = slide::Slide::open(slide_path);
    convert::ConvertOptions options;
    options.zarr_version = c.zarr_version;
    options.chunk = c.chunk;
    options.shard = c.shard;
    options.compressors = zarr::parse_codec_option(c.codec);
    options.layout = c.layout;
    options.ome = c.ome;
    options.dtype = c.dtype;
    options.threads = 4;
    const convert::ConvertResult cpu = convert::convert_slide(slide, cpu_out, options);
    options.fsync = true;  // commits sync (the store's durability policy); the bytes are the same
    options.mode = run_mode;
    options.memory = std::size_t{64} << 20;  // tiled: several blocks in flight, a fraction of the level
    pipeline::DeviceBackendOptions device_options;
    device_options.io = mode;
    device_options.decode = codec::DecodeMode::cpu;  // the CPU decoder and the CPU codecs, for stores
    device_options.encode = zarr::EncodeMode::cpu;   // equal bit for bit
    const auto backend = pipeline::make_device_backend(device_options);
    const convert::ConvertResult gpu = convert::convert_slide(slide, gpu_out, options, *backend);
    ASSERT_EQ(gpu.array_paths, cpu.array_paths);
    if (c.ome) {
      ASSERT_GE(gpu.array_paths.size(), 4u);  // levels built on the device
    }
    const bool raw_blocks = c.codec == "none" && c.shard == 0 && (c.layout == convert::Layout::yxc && !c.ome);
    for (const pipeline::DatasetReport& d : gpu.run.datasets) {
      EXPECT_GT(d.run.peak_device_bytes, 0u) << d.path;
      // gds writes raw blocks of the full block width from device memory; posix never does.
      if (mode == io::IoMode::gds && raw_blocks) {
        EXPECT_GT(d.blocks_from_device, 0u) << d.path;
      } else {
        EXPECT_EQ(d.blocks_from_device, 0u) << d.path;
      }
      if (run_mode == pipeline::Mode::tiled) {
        EXPECT_LE(d.run.peak_device_bytes, options.memory) << d.path;
      }
    }
    // Raw tiles of a stored level are read with the mode asked for; JPEG tiles are decoded on the CPU.
    EXPECT_EQ(gpu.run.datasets.front().run.io, kind.compression == compression::none ? io::to_string(mode) : "posix")
        << gpu.run.datasets.front().run.io_detail;
  }
  const auto cpu_files = files_of(cpu_out);
  const auto gpu_files = files_of(gpu_out);
  ASSERT_GT(cpu_files.size(), 4u);
  ASSERT_EQ(cpu_files.size(), gpu_files.size());
  for (const auto& [name, bytes] : cpu_files) {
    const auto found = gpu_files.find(name);
    ASSERT_NE(found, gpu_files.end()) << name << " missing from the device-written store";
    EXPECT_TRUE(found->second == bytes) << name << " differs (" << bytes.size() << " vs " << found->second.size()
                                        << " bytes)";
  }
  fs::remove_all(cpu_out);
  fs::remove_all(gpu_out);
  fs::remove(slide_path);
}

INSTANTIATE_TEST_SUITE_P(
    Stores, DeviceConvert,
    ::testing::Combine(::testing::ValuesIn(write_cases()),
                       ::testing::Values(SlideKind{"raw", compression::none}, SlideKind{"jpeg", compression::jpeg}),
                       ::testing::Values(io::IoMode::posix, io::IoMode::gds),
                       ::testing::Values(pipeline::Mode::tiled, pipeline::Mode::global)),
    [](const auto& p) {
      return std::get<0>(p.param).name + "_" + std::get<1>(p.param).name + "_" + io::to_string(std::get<2>(p.param)) +
             "_" + pipeline::to_string(std::get<3>(p.param));
    });

}  // namespace
}  // namespace tilestream::cuda
