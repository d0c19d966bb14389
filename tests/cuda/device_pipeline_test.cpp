// The GPU backend of the processing pipeline: device tiled output equals device global output, and
// both equal the CPU backend's, file for file (Zarr chunks and metadata), for every op and chain, chunk
// sizes that do and do not divide the image, raw and JPEG synthetic slides and the shared real ones
// (Aperio JPEG, raw tiles, deflate with predictor, on several levels), uncompressed and zstd chunks,
// chunks streamed out in one band and in many bands of a few rows. Also that tiled mode holds less
// device memory than global mode, and that the backend says which io mode read the slide.
#include "tilestream/pipeline/device_backend.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/store_files.hpp"
#include "support/temp_path.hpp"
#include "support/testdata.hpp"
#include "tilestream/codec/nvjpeg.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/ops/chain.hpp"
#include "tilestream/pipeline/pipeline.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::cuda {
namespace {

using tilestream::testing::disk_path;
using tilestream::testing::files_of;

namespace fs = std::filesystem;
namespace compression = codec::compression;


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

// Runs `chain` with `options` (mode aside) three ways: CPU global (the reference), device global and
// device tiled with a 64 MiB budget; expects the three stores equal file for file. Returns the device
// peaks of global and tiled mode.
std::pair<std::size_t, std::size_t> expect_tiled_equals_global_equals_cpu(const slide::Slide& slide,
                                                                          const ops::Chain& chain,
                                                                          pipeline::ProcessOptions options,
                                                                          const pipeline::Backend& gpu,
                                                                          const std::string& what) {
  const auto cpu = pipeline::make_cpu_backend();
  const std::string reference = disk_path("cpu.zarr"), global = disk_path("global.zarr"),
                    tiled = disk_path("tiled.zarr");
  options.overwrite = true;
  options.mode = pipeline::Mode::global;
  (void)pipeline::process_slide(slide, reference, chain, options, *cpu);
  const pipeline::ProcessResult g = pipeline::process_slide(slide, global, chain, options, gpu);
  const std::size_t global_peak = g.run.peak_device_bytes;
  EXPECT_FALSE(g.run.io_detail.empty()) << what;
  EXPECT_GT(g.run.read_seconds, 0) << what;
  options.mode = pipeline::Mode::tiled;
  options.memory = std::size_t{64} << 20;
  const pipeline::ProcessResult r = pipeline::process_slide(slide, tiled, chain, options, gpu);
  EXPECT_GT(r.progress.chunks_done, 1u) << what;
  const std::size_t tiled_peak = r.run.peak_device_bytes;
  EXPECT_EQ(r.run.io, g.run.io) << what;
  expect_same_store(global, tiled, what + ": device tiled vs device global");
  expect_same_store(reference, global, what + ": device global vs CPU global");
  for (const std::string& store : {reference, global, tiled}) fs::remove_all(store);
  return {global_peak, tiled_peak};
}

struct ChainCase {
  std::string name;
  std::vector<std::string> ops;
};

std::vector<ChainCase> chains() {
  return {{"absorbance", {"absorbance"}},
          {"sobel", {"sobel"}},
          {"gaussian", {"gaussian:sigma=2.5"}},
          {"median", {"median:size=5"}},
          {"grayscale", {"grayscale"}},
          {"downsample2x", {"downsample2x"}},
          {"absorbance_gaussian", {"absorbance", "gaussian:sigma=2.5"}},
          {"grayscale_sobel", {"grayscale", "sobel"}},
          {"median_downsample2x", {"median:size=5", "downsample2x"}},
          {"cast_downsample2x", {"cast:dtype=float32", "downsample2x"}}};
}

using Case = std::tuple<ChainCase, std::uint16_t>;

class DevicePipeline : public testing::CudaTestWithParam<Case> {};

TEST_P(DevicePipeline, TiledEqualsGlobalEqualsCpu) {
  const auto& [c, comp] = GetParam();
  const std::string slide_path = disk_path("slide.tif");
  synth::SynthOptions synth_options;
  synth_options.width = 1101;
  synth_options.height = 703;
  synth_options.tile = 256;
  synth_options.compression = comp;
  synth_options.levels = 1;
  synth_options.threads = 4;
  synth::write_synthetic_slide(slide_path, synth_options);
  const slide::Slide slide = slide::Slide::open(slide_path);
  const ops::Chain chain = ops::Chain::parse(c.ops);
  for (const std::uint64_t chunk : {std::uint64_t{256}, std::uint64_t{300}}) {
    // Chunk 300: bands of a few rows (20 rows of 3 uint8 samples, 5 of 3 float32) and zstd chunks.
    pipeline::DeviceBackendOptions gpu_options;
    gpu_options.decode = codec::DecodeMode::cpu;  // the CPU decoder: stores equal to the CPU run's
    gpu_options.encode = zarr::EncodeMode::cpu;  // and the CPU codecs
    gpu_options.band_bytes = chunk == 300 ? 18000 : 0;
    const auto gpu = pipeline::make_device_backend(gpu_options);
    pipeline::ProcessOptions options;
    options.chunk = chunk;
    options.compressors = zarr::parse_codec_option(chunk == 300 ? "zstd" : "none");
    options.threads = 4;
    const auto [global_peak, tiled_peak] =
        expect_tiled_equals_global_equals_cpu(slide, chain, options, *gpu, concat(c.name, " chunk ", chunk));
    EXPECT_GT(global_peak, 0u);
    EXPECT_GT(tiled_peak, 0u);
  }
  fs::remove(slide_path);
}

INSTANTIATE_TEST_SUITE_P(Chains, DevicePipeline,
                         ::testing::Combine(::testing::ValuesIn(chains()),
                                            ::testing::Values(compression::none, compression::jpeg)),
                         [](const auto& p) {
                           return std::get<0>(p.param).name +
                                  (std::get<1>(p.param) == compression::none ? "_raw" : "_jpeg");
                         });

struct RealSlide {
  std::string name, file;
  std::size_t level;
};

class DevicePipelineRealSlides : public testing::CudaTestWithParam<RealSlide> {};

TEST_P(DevicePipelineRealSlides, TiledEqualsGlobalEqualsCpu) {
  const RealSlide& real = GetParam();
  TILESTREAM_REQUIRE_TESTDATA(path, real.file);
  const slide::Slide slide = slide::Slide::open(path);
  pipeline::DeviceBackendOptions gpu_options;
  gpu_options.decode = codec::DecodeMode::cpu;  // the CPU decoder: stores equal to the CPU run's
  gpu_options.encode = zarr::EncodeMode::cpu;  // and the CPU codecs
  gpu_options.band_bytes = 50000;  // several bands per chunk
  const auto gpu = pipeline::make_device_backend(gpu_options);
  for (const auto& c : chains()) {
    pipeline::ProcessOptions options;
    options.level = real.level;
    options.chunk = 300;
    options.threads = 4;
    (void)expect_tiled_equals_global_equals_cpu(slide, ops::Chain::parse(c.ops), options, *gpu,
                                                concat(real.name, " level ", real.level, ", ", c.name));
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, DevicePipelineRealSlides,
                         ::testing::Values(RealSlide{"svs", "aperio/CMU-1-Small-Region.svs", 0},
                                           RealSlide{"raw", "derived/cmu1-crop-tiled-raw.tif", 0},
                                           RealSlide{"deflate_pred", "derived/cmu1-pyramid-deflate-pred.tif", 1}),
                         [](const auto& p) { return p.param.name; });

// nvJPEG decodes the tiles: device tiled equals device global bit for bit (a tile decodes the same
// whichever batch it is in), and the report counts the tiles nvJPEG decoded.
class DevicePipelineNvJpeg : public testing::CudaTest {};

// A one-level JPEG slide of 5 x 3 tiles of 256, the last row and column partial.
void write_jpeg_slide(const std::string& path) {
  synth::SynthOptions options;
  options.width = 1101;
  options.height = 703;
  options.tile = 256;
  options.levels = 1;
  options.threads = 4;
  synth::write_synthetic_slide(path, options);
}

TEST_F(DevicePipelineNvJpeg, TiledEqualsGlobal) {
  if (!codec::nvjpeg::resolve_device_decode(codec::DecodeMode::automatic, 0).gpu) {
    FAIL() << "nvJPEG is not available on this GPU machine";
  }
  const std::string slide_path = disk_path("jpeg.tif");
  write_jpeg_slide(slide_path);
  const slide::Slide slide = slide::Slide::open(slide_path);
  pipeline::DeviceBackendOptions gpu_options;
  gpu_options.decode = codec::DecodeMode::gpu;
  const auto gpu = pipeline::make_device_backend(gpu_options);
  for (const std::vector<std::string>& ops : {std::vector<std::string>{"sobel"}, std::vector<std::string>{"downsample2x"}}) {
    pipeline::ProcessOptions options;
    options.chunk = 300;
    options.threads = 4;
    options.overwrite = true;
    options.mode = pipeline::Mode::global;
    const std::string global = disk_path("global.zarr"), tiled = disk_path("tiled.zarr");
    const pipeline::ProcessResult g = pipeline::process_slide(slide, global, ops::Chain::parse(ops), options, *gpu);
    EXPECT_EQ(g.run.decode.tiles_gpu, 15u);  // 5 x 3 tiles, each once
    EXPECT_EQ(g.run.decode.tiles_cpu, 0u) << g.run.decode.fallback_reason;
    EXPECT_NE(g.run.decode.decoder.find("nvJPEG"), std::string::npos) << g.run.decode.decoder;
    options.mode = pipeline::Mode::tiled;
    options.memory = std::size_t{64} << 20;
    const pipeline::ProcessResult t = pipeline::process_slide(slide, tiled, ops::Chain::parse(ops), options, *gpu);
    EXPECT_GE(t.run.decode.tiles_gpu, 15u);  // tiles under several chunks' halos are decoded for each
    EXPECT_EQ(t.run.decode.tiles_cpu, 0u) << t.run.decode.fallback_reason;
    expect_same_store(global, tiled, ops.front() + ": nvJPEG, device tiled vs device global");
    fs::remove_all(global);
    fs::remove_all(tiled);
  }
  fs::remove(slide_path);
}

// Under decode auto, global mode's reader decodes with nvJPEG and the tiled workers (a few tiles at a
// time each) on the CPU, and the report says why; the stores hold the same pixels within nvJPEG's
// tolerance of libjpeg (exactly the CPU's in tiled mode).
TEST_F(DevicePipelineNvJpeg, AutoDecodesTiledWorkersOnTheCpu) {
  if (!codec::nvjpeg::resolve_device_decode(codec::DecodeMode::automatic, 0).gpu) {
    FAIL() << "nvJPEG is not available on this GPU machine";
  }
  const std::string slide_path = disk_path("jpeg_auto.tif");
  write_jpeg_slide(slide_path);
  const slide::Slide slide = slide::Slide::open(slide_path);
  pipeline::DeviceBackendOptions auto_options;
  auto_options.decode = codec::DecodeMode::automatic;
  const auto gpu = pipeline::make_device_backend(auto_options);
  pipeline::DeviceBackendOptions cpu_decode_options;
  cpu_decode_options.decode = codec::DecodeMode::cpu;
  const auto cpu_decode = pipeline::make_device_backend(cpu_decode_options);
  pipeline::ProcessOptions options;
  options.chunk = 300;
  options.threads = 4;
  options.overwrite = true;
  options.mode = pipeline::Mode::global;
  const std::string global = disk_path("auto_global.zarr"), tiled = disk_path("auto_tiled.zarr"),
                    reference = disk_path("cpu_decode_tiled.zarr");
  const ops::Chain chain = ops::Chain::parse(std::vector<std::string>{"sobel"});
  const pipeline::ProcessResult g = pipeline::process_slide(slide, global, chain, options, *gpu);
  EXPECT_EQ(g.run.decode.tiles_gpu, 15u);
  EXPECT_NE(g.run.decode.decoder.find("nvJPEG"), std::string::npos) << g.run.decode.decoder;
  options.mode = pipeline::Mode::tiled;
  const pipeline::ProcessResult t = pipeline::process_slide(slide, tiled, chain, options, *gpu);
  EXPECT_EQ(t.run.decode.tiles_gpu, 0u);
  EXPECT_EQ(t.run.decode.decoder, "CPU");
  EXPECT_NE(t.run.decode.detail.find("auto: tiled workers decode their few tiles at a time on the CPU"),
            std::string::npos)
      << t.run.decode.detail;
  (void)pipeline::process_slide(slide, reference, chain, options, *cpu_decode);
  expect_same_store(reference, tiled, "decode auto tiled vs decode cpu tiled");
  fs::remove_all(global);
  fs::remove_all(tiled);
  fs::remove_all(reference);
  fs::remove(slide_path);
}

class DevicePipelineMemory : public testing::CudaTest {};

TEST_F(DevicePipelineMemory, TiledHoldsAFractionOfGlobal) {
  const std::string slide_path = disk_path("big.tif");
  synth::SynthOptions synth_options;
  synth_options.width = 4096;
  synth_options.height = 4096;
  synth_options.tile = 512;
  synth_options.compression = compression::none;
  synth_options.levels = 1;
  synth_options.threads = 4;
  synth::write_synthetic_slide(slide_path, synth_options);
  const slide::Slide slide = slide::Slide::open(slide_path);
  const std::vector<std::string> specs{"sobel"};
  const ops::Chain chain = ops::Chain::parse(specs);
  const auto gpu = pipeline::make_device_backend({});
  pipeline::ProcessOptions options;
  options.chunk = 512;
  options.threads = 4;
  options.overwrite = true;
  options.compressors = {};
  options.mode = pipeline::Mode::global;
  const std::size_t global_peak =
      pipeline::process_slide(slide, disk_path("global.zarr"), chain, options, *gpu).run.peak_device_bytes;
  options.mode = pipeline::Mode::tiled;
  options.memory = std::size_t{32} << 20;
  const pipeline::ProcessResult tiled = pipeline::process_slide(slide, disk_path("tiled.zarr"), chain, options, *gpu);
  const std::size_t tiled_peak = tiled.run.peak_device_bytes;
  // The budget holds on the device: what the workers allocated (readers, bands, source tiles and the
  // chain's intermediates) stays within the bytes in flight that the budget allowed.
  EXPECT_LE(tiled.bytes_in_flight, options.memory);
  EXPECT_LE(tiled_peak, tiled.bytes_in_flight) << "tiled " << tiled_peak << " B, " << tiled.workers << " workers";
  // Global holds the 48 MB level and its 192 MB float32 sobel at least; tiled a few chunks' worth.
  EXPECT_GE(global_peak, std::size_t{240} << 20);
  EXPECT_LT(tiled_peak * 4, global_peak) << "tiled " << tiled_peak << " B, global " << global_peak << " B";
  fs::remove_all(disk_path("global.zarr"));
  fs::remove_all(disk_path("tiled.zarr"));
  fs::remove(slide_path);
}

}  // namespace
}  // namespace tilestream::cuda
