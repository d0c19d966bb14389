// The nvJPEG decode stage of the DeviceReader against the CPU decoder (libjpeg-turbo): generated JPEG
// slides of every sampling tilestream writes (YCbCr 4:2:0, 4:2:2, 4:4:4, RGB, grey) and tile sizes
// 240, 256 and 512, and the shared real JPEG slides. Pixels may differ by the IDCT's and upsampling's
// rounding: at most 4 levels, 0.5 on average (the figures are printed per case); repeated reads and
// regions equal each other exactly; tiles nvJPEG cannot take (progressive) fall back to the CPU for
// those tiles only, equal to the CPU byte for byte and counted in the report.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/level_pieces.hpp"
#include "support/pixel_difference.hpp"
#include "support/temp_path.hpp"
#include "support/testdata.hpp"
#include "tilestream/codec/nvjpeg.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/device_reader.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::slide {
namespace {

using testing::temp_path;

using Difference = testing::PixelDifference;

Difference difference(const HostImage& a, const HostImage& b) {
  EXPECT_EQ(a.size_bytes(), b.size_bytes());
  return testing::pixel_difference(a, b);
}

constexpr auto equal = testing::same_bytes;

// Skips unless nvJPEG runs here.
codec::nvjpeg::ResolvedDecode require_nvjpeg() {
  const codec::nvjpeg::ResolvedDecode decode =
      codec::nvjpeg::resolve_device_decode(codec::DecodeMode::automatic, 0);
  if (!decode.gpu) ADD_FAILURE() << "nvJPEG is not available on this GPU machine: " << decode.detail;
  return decode;
}

DeviceReaderOptions gpu_options(unsigned threads = 4) {
  DeviceReaderOptions o;
  o.threads = threads;
  o.decode = codec::DecodeMode::gpu;
  return o;
}

struct SynthCase {
  std::string name;
  std::uint32_t tile;
  std::uint32_t samples;
  bool ycbcr;
  std::array<std::uint8_t, 2> sampling;
  int quality;
};

std::vector<SynthCase> synth_cases() {
  return {{"ycbcr420_t256_q90", 256, 3, true, {2, 2}, 90}, {"ycbcr420_t256_q75", 256, 3, true, {2, 2}, 75},
          {"ycbcr422_t256_q90", 256, 3, true, {2, 1}, 90}, {"ycbcr444_t256_q90", 256, 3, true, {1, 1}, 90},
          {"rgb_t256_q90", 256, 3, false, {1, 1}, 90},      {"gray_t256_q90", 256, 1, true, {1, 1}, 90},
          {"ycbcr420_t240_q90", 240, 3, true, {2, 2}, 90}, {"ycbcr420_t512_q75", 512, 3, true, {2, 2}, 75}};
}

std::string write_synth(const SynthCase& c, bool progressive = false) {
  synth::SynthOptions o;
  o.width = 1900;
  o.height = 1300;
  o.tile = c.tile;
  o.levels = 2;
  o.samples = c.samples;
  o.jpeg_quality = c.quality;
  o.jpeg_ycbcr = c.ycbcr;
  o.jpeg_ycbcr_sampling = c.sampling;
  o.jpeg_progressive = progressive;
  const std::string path = temp_path(c.name + (progressive ? "_progressive.tif" : ".tif"));
  synth::write_synthetic_slide(path, o);
  return path;
}

class DeviceJpeg : public testing::CudaTestWithParam<SynthCase> {};

TEST_P(DeviceJpeg, WithinToleranceOfCpuAndRepeatable) {
  const SynthCase& c = GetParam();
  if (!require_nvjpeg().gpu) return;
  const std::string path = write_synth(c);
  const Slide slide = Slide::open(path);
  DeviceReader reader(gpu_options());
  const cuda::Stream stream;
  for (std::size_t level = 0; level < slide.level_count(); ++level) {
    const HostImage cpu = slide.read_level(level);
    DeviceReadReport report;
    const HostImage gpu = reader.read_level(slide, level, &report).to_host(stream);
    EXPECT_EQ(report.path, gpu_decode_path);
    EXPECT_EQ(report.decode.tiles_cpu, 0u) << report.decode.fallback_reason;
    const tiff::ImageInfo& image = slide.level(level).image;
    EXPECT_EQ(report.decode.tiles_gpu, std::uint64_t{image.tiles_across()} * image.tiles_down());
    const Difference d = difference(gpu, cpu);
    std::printf("[ nvjpeg   ] %s level %zu (%s): max |diff| %d, mean |diff| %.4f (%s)\n", c.name.c_str(), level,
                report.decode.decoder.c_str(), d.max, d.mean, report.decode.detail.c_str());
    EXPECT_LE(d.max, 4) << c.name << " level " << level;
    EXPECT_LE(d.mean, 0.5) << c.name << " level " << level;
    const HostImage again = reader.read_level(slide, level).to_host(stream);
    EXPECT_TRUE(equal(gpu, again)) << "two device reads of " << c.name << " level " << level << " differ";
    // A region across tile borders equals that part of the whole level.
    const std::uint64_t x = std::min<std::uint64_t>(c.tile - 37, image.width - 1);
    const std::uint64_t y = std::min<std::uint64_t>(c.tile + 5, image.height - 1);
    const std::uint64_t w = std::min<std::uint64_t>(2 * c.tile + 11, image.width - x);
    const std::uint64_t h = std::min<std::uint64_t>(c.tile + 50, image.height - y);
    testing::expect_region_of(reader.read_region(slide, level, x, y, w, h).to_host(stream), gpu, x, y,
                              concat(c.name, " level ", level));
  }
}

INSTANTIATE_TEST_SUITE_P(Samplings, DeviceJpeg, ::testing::ValuesIn(synth_cases()),
                         [](const auto& param_info) { return param_info.param.name; });

using DeviceJpegFallback = testing::CudaTest;

// Progressive tiles are decoded on the CPU, tile by tile, and say so; their pixels are the CPU's.
TEST_F(DeviceJpegFallback, ProgressiveTilesFallBackToTheCpu) {
  if (!require_nvjpeg().gpu) return;
  const std::string path = write_synth({"progressive", 256, 3, true, {2, 2}, 90}, true);
  const Slide slide = Slide::open(path);
  DeviceReader reader(gpu_options());
  DeviceReadReport report;
  const cuda::Stream stream;
  const HostImage gpu = reader.read_level(slide, 0, &report).to_host(stream);
  const tiff::ImageInfo& image = slide.level(0).image;
  EXPECT_EQ(report.path, gpu_decode_path);
  EXPECT_EQ(report.decode.tiles_gpu, 0u);
  EXPECT_EQ(report.decode.tiles_cpu, std::uint64_t{image.tiles_across()} * image.tiles_down());
  EXPECT_EQ(report.decode.fallback_reason, "progressive JPEG");
  EXPECT_TRUE(equal(gpu, slide.read_level(0)));
}

// NDPI levels (tiles that are JPEG restart intervals, decoded after the strip's header) take the CPU
// decode path under any decode mode, say why, and give the CPU's bytes: regions and patches.
TEST_F(DeviceJpegFallback, NdpiLevelsTakeTheCpuDecodePath) {
  if (!require_nvjpeg().gpu) return;
  TILESTREAM_REQUIRE_TESTDATA(path, "hamamatsu/test3-DAPI-2-387.ndpi");
  const Slide slide = Slide::open(path);
  DeviceReader reader(gpu_options());
  const cuda::Stream stream;
  for (std::size_t level = 0; level < slide.level_count(); ++level) {
    const tiff::ImageInfo& image = slide.level(level).image;
    const std::uint64_t w = std::min<std::uint64_t>(image.width, 700),
                        h = std::min<std::uint64_t>(image.height, 37);
    DeviceReadReport report;
    const HostImage gpu = reader.read_region(slide, level, 3, 5, w - 3, h - 5, &report).to_host(stream);
    EXPECT_EQ(report.path, cpu_decode_path) << "level " << level;
    EXPECT_NE(report.decode.detail.find("NDPI"), std::string::npos) << report.decode.detail;
    EXPECT_TRUE(equal(gpu, slide.read_region(level, 3, 5, w - 3, h - 5))) << "level " << level;
    const std::vector<PatchCorner> corners{
        {0, 0, 0}, {10, 7, 1}, {static_cast<std::int64_t>(image.width) - 20, 3, 2}};
    cuda::DeviceImage patches(3 * 16, 32, image.samples, image.dtype, stream);
    reader.read_patches(slide, level, corners, 32, 16, patches, &report);
    EXPECT_EQ(report.path, cpu_decode_path);
    const HostImage got = patches.to_host(stream);
    for (const PatchCorner& c : corners) {
      const HostImage want =
          slide.read_region(level, static_cast<std::uint64_t>(c.x), static_cast<std::uint64_t>(c.y),
                            std::min<std::uint64_t>(32, image.width - static_cast<std::uint64_t>(c.x)), 16);
      for (std::uint64_t row = 0; row < 16; ++row) {
        EXPECT_EQ(std::memcmp(got.data() + (c.index * 16 + row) * got.row_bytes(),
                              want.data() + row * want.row_bytes(), want.row_bytes()),
                  0)
            << "level " << level << " patch " << c.index << " row " << row;
      }
    }
  }
}

// A corrupt tile fails the read with the CPU decoder's error naming the file and the tile, whichever
// decoder met it first.
TEST_F(DeviceJpegFallback, CorruptTileNamesTheTile) {
  if (!require_nvjpeg().gpu) return;
  const std::string path = write_synth({"corrupt", 256, 3, true, {2, 2}, 90});
  const std::size_t tile = 3;
  {
    const Slide slide = Slide::open(path);
    const tiff::ImageInfo& image = slide.level(0).image;
    // Cut the tile's entropy-coded data short of its end: EOI lands in the middle of the scan.
    const std::uint64_t offset = image.tile_offsets[tile] + image.tile_byte_counts[tile] / 2;
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fseek(f, static_cast<long>(offset), SEEK_SET), 0);
    const unsigned char eoi[4] = {0xFF, 0xD9, 0xFF, 0xD9};
    ASSERT_EQ(std::fwrite(eoi, 1, sizeof eoi, f), sizeof eoi);
    std::fclose(f);
  }
  const Slide slide = Slide::open(path);
  DeviceReader reader(gpu_options());
  try {
    (void)reader.read_level(slide, 0);
    FAIL() << "a corrupt tile was read without an error";
  } catch (const CodecError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("tile 3"), std::string::npos) << what;
  }
}

struct RealCase {
  std::string file;
};

class DeviceJpegReal : public testing::CudaTestWithParam<RealCase> {};

TEST_P(DeviceJpegReal, WithinToleranceOfCpu) {
  TILESTREAM_REQUIRE_TESTDATA(path, GetParam().file);
  if (!require_nvjpeg().gpu) return;
  const Slide slide = Slide::open(path);
  DeviceReader reader(gpu_options());
  const cuda::Stream stream;
  for (std::size_t level = 0; level < slide.level_count(); ++level) {
    const tiff::ImageInfo& image = slide.level(level).image;
    if (!gpu_decode_unsupported_reason(image).empty()) continue;
    DeviceReadReport report;
    const HostImage gpu = reader.read_level(slide, level, &report).to_host(stream);
    const HostImage cpu = slide.read_level(level);
    const Difference d = difference(gpu, cpu);
    std::printf("[ nvjpeg   ] %s level %zu: %s, %llu tiles on the GPU, %llu on the CPU%s%s; max |diff| %d, mean %.4f\n",
                GetParam().file.c_str(), level, report.decode.decoder.c_str(),
                static_cast<unsigned long long>(report.decode.tiles_gpu), static_cast<unsigned long long>(report.decode.tiles_cpu),
                report.decode.fallback_reason.empty() ? "" : ": ", report.decode.fallback_reason.c_str(), d.max, d.mean);
    EXPECT_EQ(report.path, gpu_decode_path);
    EXPECT_LE(d.max, 4);
    EXPECT_LE(d.mean, 0.5);
    EXPECT_TRUE(equal(gpu, reader.read_level(slide, level).to_host(stream)));
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, DeviceJpegReal,
                         ::testing::Values(RealCase{"aperio/CMU-1-Small-Region.svs"},
                                           RealCase{"derived/cmu1-pyramid-jpeg-bigtiff.tif"}),
                         [](const auto& param_info) { return param_info.index == 0 ? std::string("svs") : std::string("bigtiff"); });

// The io modes read the same bytes: nvJPEG's pixels equal whichever way the tiles came; direct reads
// with O_DIRECT, gds with pread (nvJPEG takes host memory) and says so.
TEST_F(DeviceJpegFallback, IoModesGiveTheSamePixels) {
  if (!require_nvjpeg().gpu) return;
  const std::string path = write_synth({"io", 256, 3, true, {2, 2}, 90});
  const Slide slide = Slide::open(path);
  const cuda::Stream stream;
  std::optional<HostImage> first;
  for (const io::IoMode mode : {io::IoMode::posix, io::IoMode::direct, io::IoMode::gds}) {
    DeviceReaderOptions o = gpu_options();
    o.io = mode;
    std::optional<DeviceReader> reader;
    try {
      reader.emplace(o);
    } catch (const UnsupportedError& e) {
      std::printf("[ nvjpeg   ] io %s unavailable here: %s\n", io::to_string(mode), e.what());
      continue;
    }
    DeviceReadReport report;
    HostImage image = reader->read_level(slide, 0, &report).to_host(stream);
    EXPECT_EQ(report.path, gpu_decode_path);
    EXPECT_EQ(report.io, mode == io::IoMode::direct ? io::IoMode::direct : io::IoMode::posix) << report.io_detail;
    if (mode == io::IoMode::gds) {
      EXPECT_NE(report.io_detail.find("posix, not gds"), std::string::npos);
    }
    if (!first) {
      first.emplace(std::move(image));
    } else {
      EXPECT_TRUE(equal(*first, image)) << "io " << io::to_string(mode);
    }
  }
}

// The command line with `environment` (NAME=value words) in front; its exit status, stdout and stderr.
struct CliRun {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

CliRun run_cli(const std::string& environment, const std::vector<std::string>& args) {
  const std::string out = temp_path("stdout.txt"), err = temp_path("stderr.txt");
  std::string command = "env " + environment + " '" + std::string(TILESTREAM_CLI_PATH) + "'";
  for (const std::string& arg : args) command += " '" + arg + "'";
  command += " > '" + out + "' 2> '" + err + "'";
  const int status = std::system(command.c_str());
  CliRun run{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return run;
}

// Where nvJPEG and nvCOMP are missing (their settings name no library), auto decodes and compresses on
// the CPU and the report says why; gpu fails naming what is missing.
TEST_F(DeviceJpegFallback, MissingLibrariesAreNamed) {
  const std::string path = write_synth({"missing", 256, 3, true, {2, 2}, 90});
  const std::string store = temp_path("out.zarr");
  const std::string missing =
      "TILESTREAM_NVJPEG_LIBRARY=/nonexistent/libnvjpeg.so.13 TILESTREAM_NVCOMP_LIBRARY=/nonexistent/libnvcomp.so.6";
  CliRun r = run_cli(missing, {"read", path, "--device", "cuda", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json read = nlohmann::json::parse(r.out);
  EXPECT_EQ(read["path"], cpu_decode_path);
  EXPECT_EQ(read["decode"]["decoder"], "CPU");
  EXPECT_NE(read["decode"]["detail"].get<std::string>().find("/nonexistent/libnvjpeg.so.13"), std::string::npos)
      << read["decode"];
  r = run_cli(missing, {"read", path, "--device", "cuda", "--decode", "gpu", "--json"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("GPU JPEG decoding is not available"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/libnvjpeg.so.13"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--decode cpu"), std::string::npos) << r.err;

  r = run_cli(missing, {"convert", path, store, "--device", "cuda", "--codec", "zstd", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json converted = nlohmann::json::parse(r.out);
  EXPECT_EQ(converted["encode"]["encoder"], "CPU");
  EXPECT_NE(converted["encode"]["detail"].get<std::string>().find("/nonexistent/libnvcomp.so.6"), std::string::npos)
      << converted["encode"];
  EXPECT_EQ(converted["decode"]["decoder"], "CPU");
  r = run_cli(missing, {"convert", path, store, "--device", "cuda", "--codec", "zstd", "--encode", "gpu", "--overwrite"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("GPU chunk compression is not available"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--encode cpu"), std::string::npos) << r.err;
  std::filesystem::remove_all(store);
}

// decode cpu takes the CPU path for JPEG and says it was asked for.
TEST_F(DeviceJpegFallback, DecodeCpuIsTheCpuPath) {
  const std::string path = write_synth({"cpu", 256, 3, true, {2, 2}, 90});
  const Slide slide = Slide::open(path);
  DeviceReaderOptions o;
  o.decode = codec::DecodeMode::cpu;
  DeviceReader reader(o);
  DeviceReadReport report;
  const cuda::Stream stream;
  const HostImage image = reader.read_level(slide, 0, &report).to_host(stream);
  EXPECT_EQ(report.path, cpu_decode_path);
  EXPECT_EQ(report.decode.decoder, "CPU");
  EXPECT_EQ(report.decode.detail, "decode cpu was asked for");
  EXPECT_TRUE(equal(image, slide.read_level(0)));
}

}  // namespace
}  // namespace tilestream::slide
