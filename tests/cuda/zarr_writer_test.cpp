// Zarr written from device memory equals the CPU writer's output byte for byte (every file, metadata
// included): convert_slide_on_device against convert::convert_slide on the same slide, for raw and JPEG
// slides of odd sizes, uint8 and float32, chunks 256 to 2048, layouts yxc and cyx, Zarr v2 and v3,
// uncompressed (the streamed path) and compressed or sharded (the encoded path), io posix and gds.
// Also the cast kernel against core/cast.hpp, and the writer's refusals.
#include "tilestream/cuda/zarr_writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/store_files.hpp"
#include "support/temp_path.hpp"
#include "tilestream/convert/convert.hpp"
#include "tilestream/core/cast.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/cuda/device_convert.hpp"
#include "tilestream/cuda/image_kernels.hpp"
#include "tilestream/io/cufile.hpp"
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
};

std::vector<WriteCase> write_cases() {
  using convert::Layout;
  return {
      {"v3_raw_256_yxc_uint8", 3, 256, 0, "none", Layout::yxc, std::nullopt},
      {"v3_raw_512_cyx_float32", 3, 512, 0, "none", Layout::cyx, DType::float32},
      {"v3_raw_1024_yxc_float32", 3, 1024, 0, "none", Layout::yxc, DType::float32},
      {"v3_raw_2048_yxc_float32", 3, 2048, 0, "none", Layout::yxc, DType::float32},
      {"v3_raw_2048_cyx_uint8", 3, 2048, 0, "none", Layout::cyx, std::nullopt},
      {"v2_raw_1024_yxc_uint8", 2, 1024, 0, "none", Layout::yxc, std::nullopt},
      {"v2_raw_300_cyx_float32", 2, 300, 0, "none", Layout::cyx, DType::float32},
      {"v3_zstd_512_yxc_uint8", 3, 512, 0, "zstd", Layout::yxc, std::nullopt},
      {"v3_sharded_256_1024_yxc_uint8", 3, 256, 1024, "none", Layout::yxc, std::nullopt},
      {"v2_gzip_512_cyx_float32", 2, 512, 0, "gzip:1", Layout::cyx, DType::float32},
  };
}

struct SlideKind {
  std::string name;
  std::uint16_t compression;
};

using Case = std::tuple<WriteCase, SlideKind, io::IoMode>;

class DeviceZarrWrite : public testing::CudaTestWithParam<Case> {};

TEST_P(DeviceZarrWrite, EqualsTheCpuWriterByteForByte) {
  const auto& [c, kind, mode] = GetParam();
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
    options.dtype = c.dtype;
    options.threads = 4;
    convert::convert_slide(slide, cpu_out, options);
    options.fsync = true;  // commits sync (the store's durability policy); the bytes are the same
    DeviceConvertOptions device_options;
    device_options.io = mode;
    const DeviceConvertResult r = convert_slide_on_device(slide, gpu_out, options, device_options);
    ASSERT_EQ(r.datasets.size(), 2u);
    // Raw tiles are read with the mode asked for; JPEG tiles are decoded on the CPU after pread.
    EXPECT_EQ(r.read_io, kind.compression == compression::none ? io::to_string(mode) : "posix") << r.read_io_detail;
    const bool raw = c.codec == "none" && c.shard == 0;
    EXPECT_EQ(r.write_io, raw ? io::to_string(mode) : "posix") << r.write_io_detail;
    for (const DatasetTiming& t : r.datasets) {
      EXPECT_GT(t.write_seconds, 0.0);
      EXPECT_GT(t.fsync_seconds, 0.0);
      EXPECT_EQ(t.cast_seconds > 0, c.dtype.has_value());
    }
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
    Stores, DeviceZarrWrite,
    ::testing::Combine(::testing::ValuesIn(write_cases()),
                       ::testing::Values(SlideKind{"raw", compression::none}, SlideKind{"jpeg", compression::jpeg}),
                       ::testing::Values(io::IoMode::posix, io::IoMode::gds)),
    [](const auto& p) {
      return std::get<0>(p.param).name + "_" + std::get<1>(p.param).name + "_" + io::to_string(std::get<2>(p.param));
    });

class DeviceZarrRefusals : public testing::CudaTest {};

TEST_F(DeviceZarrRefusals, BuiltPyramidLevelsAndDirectWritesAreUsageErrors) {
  const std::string slide_path = disk_path("slide.tif");
  synth::SynthOptions synth_options;
  synth_options.width = 700;
  synth_options.height = 500;
  synth_options.tile = 128;
  synth_options.levels = 1;
  synth::write_synthetic_slide(slide_path, synth_options);
  const slide::Slide slide = slide::Slide::open(slide_path);
  convert::ConvertOptions ome;
  ome.ome = true;
  ome.chunk = 128;
  EXPECT_THROW(convert_slide_on_device(slide, disk_path("ome.zarr"), ome, {}), UsageError);

  const Stream stream;
  DeviceImage image(500, 700, 3, DType::uint8, stream);
  image.buffer().fill(7, stream);
  zarr::FileStore store(disk_path("direct.zarr"));
  zarr::ArraySpec spec;
  spec.shape = {500, 700, 3};
  spec.chunk_shape = {256, 256, 3};
  const zarr::ArrayWriter writer(store, "0", spec);
  ZarrWriteOptions options;
  options.io = io::IoMode::direct;
  EXPECT_THROW(write_zarr_blocks(image, store, writer, options), UsageError);
  options.io = io::IoMode::posix;
  options.channels_first = true;  // the shape says (y, x, c)
  EXPECT_THROW(write_zarr_blocks(image, store, writer, options), UsageError);
  fs::remove_all(store.name());
  fs::remove(slide_path);
}

// The writer needs nothing of a store but the Store interface: blocks written into a MemoryStore equal
// those of a FileStore; gds, which writes into files, is refused there and auto says why it is posix.
TEST_F(DeviceZarrRefusals, MemoryStoreTakesHostPiecesAndRefusesGds) {
  const Stream stream;
  DeviceImage image(500, 700, 3, DType::uint8, stream);
  image.buffer().fill(7, stream);
  zarr::ArraySpec spec;
  spec.shape = {500, 700, 3};
  spec.chunk_shape = {256, 256, 3};
  zarr::FileStore files(disk_path("memory_twin.zarr"));
  zarr::MemoryStore memory;
  const zarr::ArrayWriter file_writer(files, "0", spec), memory_writer(memory, "0", spec);
  ZarrWriteOptions options;
  options.io = io::IoMode::posix;
  options.piece_bytes = 10000;  // several pieces per block
  EXPECT_EQ(write_zarr_blocks(image, files, file_writer, options).blocks_written, 6u);
  EXPECT_EQ(write_zarr_blocks(image, memory, memory_writer, options).blocks_written, 6u);
  const auto file_values = files_of(files.name());
  ASSERT_EQ(memory.keys().size(), file_values.size());  // the metadata and 6 blocks
  for (const auto& [key, bytes] : file_values) {
    const auto value = memory.get(key);
    ASSERT_TRUE(value.has_value()) << key;
    EXPECT_TRUE(std::string(reinterpret_cast<const char*>(value->data()), value->size()) == bytes) << key;
  }
  options.io = io::IoMode::gds;
  EXPECT_THROW(write_zarr_blocks(image, memory, memory_writer, options), UsageError);
  options.io = io::IoMode::automatic;
  const ZarrWriteReport automatic = write_zarr_blocks(image, memory, memory_writer, options);
  EXPECT_EQ(automatic.io, io::IoMode::posix);
  EXPECT_NE(automatic.io_detail.find("not files"), std::string::npos) << automatic.io_detail;
  fs::remove_all(files.name());
}

class DeviceCast : public testing::CudaTest {};

TEST_F(DeviceCast, EqualsTheCpuCastForEveryType) {
  const Stream stream;
  for (const DType from : {DType::uint8, DType::int8, DType::uint16, DType::int16, DType::float32}) {
    SCOPED_TRACE(to_string(from));
    HostImage host(37, 53, 3, from);
    for (std::size_t i = 0; i < host.size_bytes(); ++i) host.data()[i] = static_cast<std::byte>((i * 131 + 7) & 0xFF);
    if (from == DType::float32) {  // keep the floats finite: no NaN payloads to compare
      for (std::size_t i = 3; i < host.size_bytes(); i += 4) host.data()[i] = std::byte{0x3F};
    }
    DeviceImage device(37, 53, 3, from, stream);
    copy_to_device(device.buffer(), host.bytes(), stream);
    const DeviceImage converted = cast(device, DType::float32, stream);
    const HostImage back = converted.to_host(stream);
    HostImage expected(37, 53, 3, DType::float32);
    cast_samples(host.bytes(), from, {expected.data(), expected.size_bytes()}, DType::float32);
    EXPECT_TRUE(std::equal(back.bytes().begin(), back.bytes().end(), expected.bytes().begin()));
  }
  DeviceImage f(2, 2, 1, DType::float32, stream);
  EXPECT_THROW((void)cast(f, DType::uint8, stream), UsageError);
}

}  // namespace
}  // namespace tilestream::cuda
