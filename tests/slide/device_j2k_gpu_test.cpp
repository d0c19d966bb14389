// The nvJPEG2000 decode stage of the DeviceReader against the CPU decoder (OpenJPEG): generated JPEG 2000
// slides of each compression tilestream reads (34712 RGB and grey, uint8 and uint16; Aperio's RGB
// 33005 and YCbCr 33003, converted to RGB with the CPU's arithmetic), lossless (reversible 5/3 wavelet:
// both decoders give the stored integers, so the pixels are equal byte for byte) and lossy
// (irreversible 9/7: the decoders' wavelet arithmetic differs, within a stated tolerance); whole levels,
// regions across tile borders, patch batches and decode cpu.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/level_pieces.hpp"
#include "support/pixel_difference.hpp"
#include "support/temp_path.hpp"
#include "tilestream/codec/codec.hpp"
#include "tilestream/codec/nvjpeg2k.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/device_reader.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::slide {
namespace {

using testing::temp_path;

constexpr auto equal = testing::same_bytes;

// Fails (this runs on the GPU machine, where nvJPEG2000 travels with the command) unless it loads.
bool require_nvjpeg2k() {
  const codec::nvjpeg2k::ResolvedDecode decode =
      codec::nvjpeg2k::resolve_device_decode(codec::DecodeMode::automatic, 0);
  if (!decode.gpu) ADD_FAILURE() << "nvJPEG2000 is not available on this GPU machine: " << decode.detail;
  return decode.gpu;
}

DeviceReaderOptions gpu_options(unsigned threads = 4) {
  DeviceReaderOptions o;
  o.threads = threads;
  o.decode = codec::DecodeMode::gpu;
  return o;
}

struct J2kCase {
  std::string name;
  std::uint16_t compression;
  std::uint32_t samples;
  DType dtype;
  std::uint32_t tile;
  int quality;  // negative: lossless
};

std::vector<J2kCase> j2k_cases() {
  using namespace codec::compression;
  return {{"rgb_lossless", jpeg2000, 3, DType::uint8, 256, -1},
          {"gray_lossless", jpeg2000, 1, DType::uint8, 256, -1},
          {"rgb16_lossless", jpeg2000, 3, DType::uint16, 256, -1},
          {"aperio_rgb_lossless", jpeg2000_rgb, 3, DType::uint8, 240, -1},
          {"aperio_ycbcr_lossless", jpeg2000_ycbcr, 3, DType::uint8, 240, -1},
          {"rgb_lossy", jpeg2000, 3, DType::uint8, 256, 60},
          {"aperio_ycbcr_lossy", jpeg2000_ycbcr, 3, DType::uint8, 240, 60}};
}

std::string write_synth(const J2kCase& c) {
  synth::SynthOptions o;
  o.width = 1300;
  o.height = 900;
  o.tile = c.tile;
  o.levels = 2;
  o.samples = c.samples;
  o.dtype = c.dtype;
  o.compression = c.compression;
  o.jpeg2000_quality = c.quality;
  o.aperio_description = c.compression != codec::compression::jpeg2000;
  const std::string path = temp_path(c.name + ".tif");
  synth::write_synthetic_slide(path, o);
  return path;
}

class DeviceJpeg2000 : public testing::CudaTestWithParam<J2kCase> {};

TEST_P(DeviceJpeg2000, EqualToCpuLosslessWithinToleranceLossy) {
  const J2kCase& c = GetParam();
  if (!require_nvjpeg2k()) return;
  const std::string path = write_synth(c);
  const Slide slide = Slide::open(path);
  DeviceReader reader(gpu_options());
  const cuda::Stream stream;
  for (std::size_t level = 0; level < slide.level_count(); ++level) {
    const tiff::ImageInfo& image = slide.level(level).image;
    ASSERT_EQ(image.compression, c.compression);
    const HostImage cpu = slide.read_level(level);
    DeviceReadReport report;
    const HostImage gpu = reader.read_level(slide, level, &report).to_host(stream);
    EXPECT_EQ(report.path, gpu_j2k_decode_path);
    EXPECT_EQ(report.decode.decoder, "nvJPEG2000");
    EXPECT_EQ(report.decode.tiles_cpu, 0u) << report.decode.fallback_reason;
    EXPECT_EQ(report.decode.tiles_gpu, std::uint64_t{image.tiles_across()} * image.tiles_down());
    const testing::PixelDifference d = testing::pixel_difference(gpu, cpu);
    std::printf("[ nvjpeg2k ] %s level %zu: max |diff| %d, mean |diff| %.4f (%s)\n", c.name.c_str(), level, d.max,
                d.mean, report.decode.detail.c_str());
    if (c.quality < 0) {
      EXPECT_TRUE(equal(gpu, cpu)) << c.name << " level " << level << ": max |diff| " << d.max;
    } else {
      // The 9/7 wavelet in floating point (nvJPEG2000) against OpenJPEG's: a level or two apart.
      EXPECT_LE(d.max, 3) << c.name << " level " << level;
      EXPECT_LE(d.mean, 0.5) << c.name << " level " << level;
    }
    EXPECT_TRUE(equal(gpu, reader.read_level(slide, level).to_host(stream)))
        << "two device reads of " << c.name << " level " << level << " differ";
    // A region across tile borders equals that part of the whole level.
    const std::uint64_t x = std::min<std::uint64_t>(c.tile - 37, image.width - 1);
    const std::uint64_t y = std::min<std::uint64_t>(c.tile + 5, image.height - 1);
    const std::uint64_t w = std::min<std::uint64_t>(2 * c.tile + 11, image.width - x);
    const std::uint64_t h = std::min<std::uint64_t>(c.tile + 50, image.height - y);
    testing::expect_region_of(reader.read_region(slide, level, x, y, w, h).to_host(stream), gpu, x, y,
                              concat(c.name, " level ", level));
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, DeviceJpeg2000, ::testing::ValuesIn(j2k_cases()),
                         [](const auto& param_info) { return param_info.param.name; });

using DeviceJpeg2000Paths = testing::CudaTest;

// Patch batches of a JPEG 2000 level decode each touched tile once with nvJPEG2000 (plus the CPU share
// under auto) and equal the CPU's patches of a lossless slide.
TEST_F(DeviceJpeg2000Paths, PatchBatchesEqualTheCpu) {
  if (!require_nvjpeg2k()) return;
  const J2kCase c{"patches", codec::compression::jpeg2000_ycbcr, 3, DType::uint8, 240, -1};
  const std::string path = write_synth(c);
  const Slide slide = Slide::open(path);
  const std::vector<PatchCorner> corners{{0, 0, 0}, {230, 17, 1}, {1100, 700, 2}, {1250, 850, 3}, {479, 481, 4}};
  constexpr std::uint64_t side = 96;
  const cuda::Stream stream;
  for (const codec::DecodeMode mode : {codec::DecodeMode::gpu, codec::DecodeMode::automatic}) {
    DeviceReaderOptions o = gpu_options(6);
    o.decode = mode;
    DeviceReader reader(o);
    cuda::DeviceImage out(corners.size() * side, side, 3, DType::uint8, stream);
    DeviceReadReport report;
    reader.read_patches(slide, 0, corners, side, side, out, &report);
    EXPECT_EQ(report.path, gpu_j2k_decode_path);
    EXPECT_GT(report.decode.tiles_gpu, 0u);
    testing::expect_patches_of(out.to_host(stream), slide.read_level(0), corners, side, codec::to_string(mode));
  }
}

// decode cpu takes the CPU path for JPEG 2000 and says it was asked for; the pixels are the CPU's.
TEST_F(DeviceJpeg2000Paths, DecodeCpuIsTheCpuPath) {
  const J2kCase c{"cpu", codec::compression::jpeg2000, 3, DType::uint8, 256, 60};
  const std::string path = write_synth(c);
  const Slide slide = Slide::open(path);
  DeviceReaderOptions o;
  o.decode = codec::DecodeMode::cpu;
  DeviceReader reader(o);
  DeviceReadReport report;
  const cuda::Stream stream;
  const HostImage image = reader.read_level(slide, 0, &report).to_host(stream);
  EXPECT_EQ(report.path, cpu_decode_path);
  EXPECT_EQ(report.decode.detail, "decode cpu was asked for");
  EXPECT_TRUE(equal(image, slide.read_level(0)));
}

// A tile whose codestream is cut short fails the read with the CPU decoder's error naming the file
// and the tile, after nvJPEG2000 left it to the CPU (or decoded garbage without complaint: then the
// read succeeds only if the CPU agrees, which the comparison checks).
TEST_F(DeviceJpeg2000Paths, CorruptTileNamesTheTile) {
  if (!require_nvjpeg2k()) return;
  const J2kCase c{"corrupt", codec::compression::jpeg2000, 3, DType::uint8, 256, -1};
  const std::string path = write_synth(c);
  const std::size_t tile = 3;
  {
    const Slide slide = Slide::open(path);
    const tiff::ImageInfo& image = slide.level(0).image;
    // Overwrite the codestream from its 20th byte on (inside the SIZ marker segment) with 0xFF.
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fseek(f, static_cast<long>(image.tile_offsets[tile] + 20), SEEK_SET), 0);
    const std::vector<unsigned char> junk(static_cast<std::size_t>(image.tile_byte_counts[tile]) - 20, 0xFF);
    ASSERT_EQ(std::fwrite(junk.data(), 1, junk.size(), f), junk.size());
    std::fclose(f);
  }
  const Slide slide = Slide::open(path);
  DeviceReader reader(gpu_options());
  try {
    (void)reader.read_level(slide, 0);
    FAIL() << "a corrupt JPEG 2000 tile was read without an error";
  } catch (const CodecError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("tile 3"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace tilestream::slide
