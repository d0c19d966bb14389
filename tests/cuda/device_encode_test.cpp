// Chunks compressed on the GPU with nvCOMP (--encode gpu) through the one engine: convert and process
// on the CUDA backend write stores whose every array decodes to the CPU run's pixels (the compressed
// bytes differ: they need not equal the CPU codecs'), for zstd, gzip and zlib, Zarr v2 and v3, (y, x, c)
// and OME's (c, y, x), global and tiled; each block is counted as encoded on the GPU. Arrays the GPU
// cannot encode (sharded, a checksum in the chain) are encoded on the CPU under auto, saying why, and
// refused under gpu.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/temp_path.hpp"
#include "tilestream/convert/convert.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/pipeline/device_backend.hpp"
#include "tilestream/synth/synth.hpp"
#include "tilestream/zarr/array.hpp"
#include "tilestream/zarr/device_encoder.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::cuda {
namespace {

namespace fs = std::filesystem;
using testing::temp_path;

std::string write_slide() {
  const std::string path = temp_path("slide.tif");
  synth::SynthOptions o;
  o.width = 1301;
  o.height = 903;
  o.tile = 256;
  o.compression = codec::compression::none;  // raw tiles: the pixels are the same on both sides
  o.levels = 2;
  o.threads = 4;
  synth::write_synthetic_slide(path, o);
  return path;
}

// Every array of both stores decodes to the same bytes.
void expect_same_arrays(const std::string& a, const std::string& b, const std::vector<std::string>& arrays,
                        const std::string& what) {
  const zarr::FileStore left(a), right(b);
  for (const std::string& path : arrays) {
    const zarr::ArrayReader x(left, path), y(right, path);
    ASSERT_EQ(x.spec().shape, y.spec().shape) << what << " " << path;
    const std::vector<std::uint64_t> origin(x.spec().shape.size(), 0);
    EXPECT_TRUE(x.read_region(origin, x.spec().shape) == y.read_region(origin, y.spec().shape))
        << what << ": array " << path << " decodes differently";
  }
}

bool nvcomp_here() {
  std::string why;
  if (!zarr::DeviceChunkEncoder::available(&why)) {
    ADD_FAILURE() << "nvCOMP is not available on this GPU machine: " << why;
    return false;
  }
  return true;
}

struct EncodeCase {
  std::string name;
  std::string codec;
  int zarr_version;
  bool ome;
};

using Case = std::tuple<EncodeCase, pipeline::Mode>;

class DeviceEncode : public testing::CudaTestWithParam<Case> {};

TEST_P(DeviceEncode, StoresDecodeToTheCpuPixels) {
  if (!nvcomp_here()) return;
  const auto& [c, mode] = GetParam();
  const std::string slide_path = write_slide();
  const std::string cpu_out = temp_path("cpu.zarr"), gpu_out = temp_path("gpu.zarr");
  const slide::Slide slide = slide::Slide::open(slide_path);
  convert::ConvertOptions options;
  options.zarr_version = c.zarr_version;
  options.chunk = 300;  // edge chunks padded on both axes
  options.compressors = zarr::parse_codec_option(c.codec);
  options.ome = c.ome;
  options.threads = 4;
  const convert::ConvertResult cpu = convert::convert_slide(slide, cpu_out, options);
  options.mode = mode;
  options.memory = std::size_t{64} << 20;
  pipeline::DeviceBackendOptions device_options;
  device_options.encode = zarr::EncodeMode::gpu;
  const auto backend = pipeline::make_device_backend(device_options);
  const convert::ConvertResult gpu = convert::convert_slide(slide, gpu_out, options, *backend);
  ASSERT_EQ(gpu.array_paths, cpu.array_paths);
  for (const pipeline::DatasetReport& d : gpu.run.datasets) {
    EXPECT_EQ(d.run.encoder, "nvCOMP (GPU)") << d.path << ": " << d.run.encode_detail;
    EXPECT_EQ(d.run.blocks_gpu_encoded, d.blocks) << d.path;
  }
  expect_same_arrays(cpu_out, gpu_out, cpu.array_paths, c.name);
  fs::remove_all(cpu_out);
  fs::remove_all(gpu_out);
  fs::remove(slide_path);
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, DeviceEncode,
    ::testing::Combine(::testing::Values(EncodeCase{"zstd_v3", "zstd", 3, false}, EncodeCase{"zstd_ome", "zstd", 3, true},
                                         EncodeCase{"gzip_v2", "gzip:5", 2, false},
                                         EncodeCase{"zlib_v2_ome", "zlib", 2, true}),
                       ::testing::Values(pipeline::Mode::global, pipeline::Mode::tiled)),
    [](const auto& param_info) {
      return std::get<0>(param_info.param).name +
             (std::get<1>(param_info.param) == pipeline::Mode::global ? "_global" : "_tiled");
    });

using DeviceEncodeRefusals = testing::CudaTest;

// Sharded arrays keep the CPU codecs under auto (the report says why) and are refused under gpu.
TEST_F(DeviceEncodeRefusals, ShardedArraysAreEncodedOnTheCpu) {
  if (!nvcomp_here()) return;
  const std::string slide_path = write_slide();
  const slide::Slide slide = slide::Slide::open(slide_path);
  convert::ConvertOptions options;
  options.chunk = 128;
  options.shard = 256;
  options.compressors = zarr::parse_codec_option("zstd");
  options.threads = 4;
  const std::string cpu_out = temp_path("cpu.zarr"), gpu_out = temp_path("gpu.zarr");
  const convert::ConvertResult cpu = convert::convert_slide(slide, cpu_out, options);
  const auto automatic = pipeline::make_device_backend({});
  const convert::ConvertResult gpu = convert::convert_slide(slide, gpu_out, options, *automatic);
  for (const pipeline::DatasetReport& d : gpu.run.datasets) {
    EXPECT_EQ(d.run.encoder, "CPU") << d.path;
    EXPECT_NE(d.run.encode_detail.find("sharded"), std::string::npos) << d.run.encode_detail;
    EXPECT_EQ(d.run.blocks_gpu_encoded, 0u);
  }
  expect_same_arrays(cpu_out, gpu_out, cpu.array_paths, "sharded");
  pipeline::DeviceBackendOptions gpu_only;
  gpu_only.encode = zarr::EncodeMode::gpu;
  options.overwrite = true;
  try {
    (void)convert::convert_slide(slide, gpu_out, options, *pipeline::make_device_backend(gpu_only));
    FAIL() << "encode gpu took a sharded array";
  } catch (const UnsupportedError& e) {
    EXPECT_NE(std::string(e.what()).find("sharded"), std::string::npos) << e.what();
  }
  fs::remove_all(cpu_out);
  fs::remove_all(gpu_out);
  fs::remove(slide_path);
}

// Under auto a zstd chunk (one nvCOMP stream) is compressed on the CPU threads by tiled workers and in
// global levels of fewer than 1,024 blocks, which the CPU threads compress faster; a global level of
// 1,024 blocks or more goes to nvCOMP. The report says which and names the way to force nvCOMP.
TEST_F(DeviceEncodeRefusals, AutoSendsOnlyLargeGlobalLevelsToNvcomp) {
  if (!nvcomp_here()) return;
  const std::string slide_path = write_slide();
  const slide::Slide slide = slide::Slide::open(slide_path);
  convert::ConvertOptions options;
  options.chunk = 32;  // level 0 (1301 x 903): 41 x 29 = 1,189 blocks; level 1 (651 x 452): 21 x 15 = 315
  options.compressors = zarr::parse_codec_option("zstd");
  options.threads = 4;
  const std::string cpu_out = temp_path("cpu.zarr"), tiled_out = temp_path("tiled.zarr"),
                    global_out = temp_path("global.zarr");
  const convert::ConvertResult cpu = convert::convert_slide(slide, cpu_out, options);
  const convert::ConvertResult tiled = convert::convert_slide(slide, tiled_out, options, *pipeline::make_device_backend({}));
  ASSERT_EQ(tiled.run.datasets.size(), 2u);
  for (const pipeline::DatasetReport& d : tiled.run.datasets) {
    EXPECT_EQ(d.run.encoder, "CPU") << d.path;
    EXPECT_NE(d.run.encode_detail.find("auto: tiled workers compress a few zstd chunks"), std::string::npos)
        << d.run.encode_detail;
    EXPECT_NE(d.run.encode_detail.find("--encode gpu"), std::string::npos) << d.run.encode_detail;
    EXPECT_EQ(d.run.blocks_gpu_encoded, 0u);
  }
  options.mode = pipeline::Mode::global;
  const convert::ConvertResult global = convert::convert_slide(slide, global_out, options, *pipeline::make_device_backend({}));
  ASSERT_EQ(global.run.datasets.size(), 2u);
  const pipeline::DatasetReport& level0 = global.run.datasets[0];
  EXPECT_EQ(level0.run.encoder, "nvCOMP (GPU)") << level0.run.encode_detail;
  EXPECT_EQ(level0.run.blocks_gpu_encoded, 41u * 29u);
  const pipeline::DatasetReport& level1 = global.run.datasets[1];
  EXPECT_EQ(level1.run.encoder, "CPU") << level1.path;
  EXPECT_NE(level1.run.encode_detail.find("auto: 315 zstd chunks, fewer than the 1024"), std::string::npos)
      << level1.run.encode_detail;
  EXPECT_NE(level1.run.encode_detail.find("--encode gpu"), std::string::npos) << level1.run.encode_detail;
  EXPECT_EQ(level1.run.blocks_gpu_encoded, 0u);
  expect_same_arrays(cpu_out, tiled_out, cpu.array_paths, "auto tiled");
  expect_same_arrays(cpu_out, global_out, cpu.array_paths, "auto global");
  for (const std::string& out : {cpu_out, tiled_out, global_out}) fs::remove_all(out);
  fs::remove(slide_path);
}

}  // namespace
}  // namespace tilestream::cuda
