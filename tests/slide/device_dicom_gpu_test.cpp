// DICOM whole slide images on the device: series made of a synthetic TIFF slide's own tiles (JPEG
// streams joined with their tables, JPEG 2000 codestreams, raw tiles), level 0 a concatenation of two
// files so that a level's frames lie in several files. Each is read by the DeviceReader through nvJPEG,
// nvJPEG2000 or the raw tile path, under every io mode, and compared with the same slide read as a TIFF
// (the same codestreams through the same decoder: equal bytes) and with the CPU reader.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "dicom/dicom_bytes.hpp"
#include "support/cuda_test_support.hpp"
#include "support/level_pieces.hpp"
#include "support/pixel_difference.hpp"
#include "support/temp_path.hpp"
#include "tilestream/codec/codec.hpp"
#include "tilestream/codec/jpeg_stream.hpp"
#include "tilestream/codec/nvjpeg.hpp"
#include "tilestream/codec/nvjpeg2k.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/device_reader.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::slide {
namespace {

namespace dcm = testing::dicom;
using testing::temp_path;

constexpr auto equal = testing::same_bytes;

bool require_gpu_decoder(bool j2k) {
  const bool gpu = j2k ? codec::nvjpeg2k::resolve_device_decode(codec::DecodeMode::automatic, 0).gpu
                       : codec::nvjpeg::resolve_device_decode(codec::DecodeMode::automatic, 0).gpu;
  if (!gpu) ADD_FAILURE() << (j2k ? "nvJPEG2000" : "nvJPEG") << " is not available on this GPU machine";
  return gpu;
}

std::string write_synth(const std::string& name, std::uint16_t compression) {
  synth::SynthOptions o;
  o.width = 1300;
  o.height = 900;
  o.tile = 256;
  o.levels = 2;
  o.compression = compression;
  const std::string path = temp_path(name + ".tif");
  synth::write_synthetic_slide(path, o);
  return path;
}

// A level's stored tiles as DICOM frames: JPEG tiles joined with the level's JPEGTables.
std::vector<dcm::Bytes> frames_of(const Slide& slide, std::size_t level) {
  const tiff::ImageInfo& image = slide.level(level).image;
  std::vector<dcm::Bytes> frames;
  for (std::size_t t = 0; t < image.tile_offsets.size(); ++t) {
    dcm::Bytes raw(image.tile_byte_counts[t]);
    slide.source().read_exact(image.tile_offsets[t], raw);
    if (image.compression == codec::compression::jpeg && !image.jpeg_tables.empty()) {
      dcm::Bytes joined(codec::joined_jpeg_size(image.jpeg_tables, raw));
      codec::join_jpeg_stream(image.jpeg_tables, raw, joined);
      raw = std::move(joined);
    }
    frames.push_back(std::move(raw));
  }
  return frames;
}

void write_file(const std::string& path, const dcm::Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

struct SeriesOptions {
  const char* syntax = dcm::jpeg_baseline;
  std::string photometric = "YBR_FULL_422";
  std::optional<std::size_t> missing_tile;  // level 0 as TILED_SPARSE without this tile's frame
};

// The folder of a DICOM series holding `tiff`'s levels, tile for tile.
std::string dicom_from_tiff(const Slide& tiff, const std::string& name, const SeriesOptions& options) {
  const std::string folder = temp_path(name + "-dicom");
  std::filesystem::create_directories(folder);
  for (std::size_t level = 0; level < tiff.level_count(); ++level) {
    const tiff::ImageInfo& image = tiff.level(level).image;
    dcm::WsiFile f;
    f.syntax = options.syntax;
    f.instance = "1.2.826.0.1.3680043.10.9.7." + std::to_string(level + 1);
    f.tile_width = image.tile_width;
    f.tile_height = image.tile_height;
    f.width = static_cast<std::uint32_t>(image.width);
    f.height = static_cast<std::uint32_t>(image.height);
    f.samples = image.samples;
    f.photometric = options.photometric;
    f.pixels.encapsulated = f.syntax != std::string(dcm::explicit_le);
    f.pixels.table = level == 0 ? dcm::OffsetTable::basic : dcm::OffsetTable::extended;
    std::vector<dcm::Bytes> frames = frames_of(tiff, level);
    if (level == 0 && options.missing_tile) {
      f.organization = "TILED_SPARSE";
      std::vector<dcm::Bytes> kept;
      for (std::size_t t = 0; t < frames.size(); ++t) {
        if (t == *options.missing_tile) continue;
        f.positions.emplace_back(static_cast<std::uint32_t>(t % image.tiles_across()) * image.tile_width + 1,
                                 static_cast<std::uint32_t>(t / image.tiles_across()) * image.tile_height + 1);
        kept.push_back(std::move(frames[t]));
      }
      frames = std::move(kept);
    }
    if (level != 0 || options.missing_tile) {
      f.pixels.frames = std::move(frames);
      write_file(folder + "/level-" + std::to_string(level) + ".dcm", f.bytes());
      continue;
    }
    // Level 0: a concatenation of two files, the first holding the first half of the frames.
    const std::size_t half = frames.size() / 2;
    f.concatenation = "1.2.826.0.1.3680043.10.9.8";
    for (std::uint32_t part = 0; part < 2; ++part) {
      dcm::WsiFile p = f;
      p.instance += "." + std::to_string(part + 1);
      p.in_concatenation = part + 1;
      p.frame_offset = part == 0 ? 0 : static_cast<std::uint32_t>(half);
      p.pixels.frames.assign(frames.begin() + (part == 0 ? 0 : static_cast<std::ptrdiff_t>(half)),
                             part == 0 ? frames.begin() + static_cast<std::ptrdiff_t>(half) : frames.end());
      write_file(folder + "/level-0-part-" + std::to_string(part + 1) + ".dcm", p.bytes());
    }
  }
  return folder;
}

DeviceReaderOptions options_for(codec::DecodeMode decode, io::IoMode mode = io::IoMode::posix) {
  DeviceReaderOptions o;
  o.threads = 4;
  o.decode = decode;
  o.io = mode;
  return o;
}

// Every level of `dicom` read on the device under each io mode: equal to `want` (the same slide read
// as a TIFF on the device), on `path`, with every tile through the GPU decoder (where one is named).
void expect_device_reads(const Slide& dicom, const Slide& tiff, const char* path, codec::DecodeMode decode) {
  const cuda::Stream stream;
  for (const io::IoMode mode : {io::IoMode::posix, io::IoMode::direct, io::IoMode::gds}) {
    std::optional<DeviceReader> reader;
    std::optional<DeviceReader> tiff_reader;
    try {
      reader.emplace(options_for(decode, mode));
      tiff_reader.emplace(options_for(decode, mode));
    } catch (const UnsupportedError& e) {
      std::printf("[ dicom    ] io %s unavailable here: %s\n", io::to_string(mode), e.what());
      continue;
    }
    for (std::size_t level = 0; level < dicom.level_count(); ++level) {
      const tiff::ImageInfo& image = dicom.level(level).image;
      DeviceReadReport report;
      const HostImage got = reader->read_level(dicom, level, &report).to_host(stream);
      const HostImage want = tiff_reader->read_level(tiff, level).to_host(stream);
      std::printf("[ dicom    ] io %s level %zu: %s, %s (%llu tiles on the GPU, %llu on the CPU)\n",
                  io::to_string(mode), level, report.path.c_str(), report.io_detail.c_str(),
                  static_cast<unsigned long long>(report.decode.tiles_gpu),
                  static_cast<unsigned long long>(report.decode.tiles_cpu));
      EXPECT_EQ(report.path, path) << "io " << io::to_string(mode) << " level " << level;
      if (std::string(path) != raw_tiles_path) {
        EXPECT_EQ(report.decode.tiles_cpu, 0u) << report.decode.fallback_reason;
        EXPECT_EQ(report.decode.tiles_gpu, std::uint64_t{image.tiles_across()} * image.tiles_down());
      }
      EXPECT_TRUE(equal(got, want)) << "io " << io::to_string(mode) << " level " << level << ": max |diff| "
                                    << testing::pixel_difference(got, want).max;
      // A region across tile borders (and, at level 0, across the concatenation's two files).
      const std::uint64_t x = 219, y = image.height / 2 - 70, w = std::min<std::uint64_t>(600, image.width - x),
                          h = std::min<std::uint64_t>(140, image.height - y);
      testing::expect_region_of(reader->read_region(dicom, level, x, y, w, h).to_host(stream), got, x, y,
                                concat("io ", io::to_string(mode), " level ", level));
    }
  }
}

using DeviceDicom = testing::CudaTest;

// JPEG frames go to nvJPEG as the TIFF's tiles do; the pixels are the TIFF's, on the CPU (libjpeg,
// exactly) and on the device (nvJPEG, exactly), under posix, O_DIRECT and cuFile reads.
TEST_F(DeviceDicom, JpegSeriesReadsAsItsTiff) {
  if (!require_gpu_decoder(false)) return;
  const Slide tiff = Slide::open(write_synth("jpeg", codec::compression::jpeg));
  const Slide dicom = Slide::open(dicom_from_tiff(tiff, "jpeg", {}));
  ASSERT_EQ(dicom.level_count(), tiff.level_count());
  ASSERT_EQ(dicom.index().file_count, 3u);
  for (std::size_t level = 0; level < tiff.level_count(); ++level)
    EXPECT_TRUE(equal(dicom.read_level(level), tiff.read_level(level))) << "CPU, level " << level;
  expect_device_reads(dicom, tiff, gpu_decode_path, codec::DecodeMode::gpu);
}

// JPEG 2000 frames go to nvJPEG2000: lossless, equal to the TIFF's device read and to OpenJPEG's.
TEST_F(DeviceDicom, Jpeg2000SeriesReadsAsItsTiff) {
  if (!require_gpu_decoder(true)) return;
  const Slide tiff = Slide::open(write_synth("j2k", codec::compression::jpeg2000));
  SeriesOptions o;
  o.syntax = dcm::jpeg2000_lossless;
  o.photometric = "RGB";
  const Slide dicom = Slide::open(dicom_from_tiff(tiff, "j2k", o));
  const cuda::Stream stream;
  DeviceReader reader(options_for(codec::DecodeMode::gpu));
  for (std::size_t level = 0; level < tiff.level_count(); ++level) {
    const HostImage cpu = dicom.read_level(level);
    EXPECT_TRUE(equal(cpu, tiff.read_level(level))) << "CPU, level " << level;
    EXPECT_TRUE(equal(reader.read_level(dicom, level).to_host(stream), cpu)) << "nvJPEG2000 against OpenJPEG, level "
                                                                             << level;
  }
  expect_device_reads(dicom, tiff, gpu_j2k_decode_path, codec::DecodeMode::gpu);
}

// Native frames are raw tiles: read into device memory (from two files at level 0) and placed.
TEST_F(DeviceDicom, NativeSeriesTakesTheRawTilePath) {
  const Slide tiff = Slide::open(write_synth("raw", codec::compression::none));
  SeriesOptions o;
  o.syntax = dcm::explicit_le;
  o.photometric = "RGB";
  const Slide dicom = Slide::open(dicom_from_tiff(tiff, "raw", o));
  for (std::size_t level = 0; level < tiff.level_count(); ++level)
    EXPECT_TRUE(equal(dicom.read_level(level), tiff.read_level(level))) << "CPU, level " << level;
  expect_device_reads(dicom, tiff, raw_tiles_path, codec::DecodeMode::automatic);
}

// A TILED_SPARSE level without one tile's frame reads that tile as zeros on the device too, and the
// rest as the CPU reads it.
TEST_F(DeviceDicom, SparseLevelReadsTheMissingTileAsZeros) {
  const Slide tiff = Slide::open(write_synth("sparse", codec::compression::jpeg));
  SeriesOptions o;
  o.missing_tile = 7;  // column 1, row 1 of 6 x 4 tiles
  const Slide dicom = Slide::open(dicom_from_tiff(tiff, "sparse", o));
  const tiff::ImageInfo& image = dicom.level(0).image;
  ASSERT_EQ(image.tile_byte_counts[7], 0u);
  const cuda::Stream stream;
  for (const codec::DecodeMode decode : {codec::DecodeMode::automatic, codec::DecodeMode::cpu}) {
    DeviceReader reader(options_for(decode));
    DeviceReadReport report;
    const HostImage gpu = reader.read_level(dicom, 0, &report).to_host(stream);
    const HostImage cpu = dicom.read_level(0);
    EXPECT_TRUE(equal(gpu, cpu)) << codec::to_string(decode) << ": " << report.path << ", max |diff| "
                                 << testing::pixel_difference(gpu, cpu).max;
    for (std::uint32_t r = 256; r < 512; ++r)
      for (std::uint32_t c = 256 * 3; c < 512 * 3; ++c)
        ASSERT_EQ(std::to_integer<int>(gpu.data()[(std::size_t{r} * image.width) * 3 + c]), 0)
            << "row " << r << ", byte " << c;
  }
}

// Patch batches of a DICOM level (frames in two files) equal the same patches cut from the level read
// on the device.
TEST_F(DeviceDicom, PatchBatchesEqualTheLevel) {
  if (!require_gpu_decoder(false)) return;
  const Slide tiff = Slide::open(write_synth("patches", codec::compression::jpeg));
  const Slide dicom = Slide::open(dicom_from_tiff(tiff, "patches", {}));
  const std::vector<PatchCorner> corners{{0, 0, 0}, {230, 17, 1}, {1100, 700, 2}, {1250, 850, 3}, {479, 481, 4}};
  constexpr std::uint64_t side = 96;
  const cuda::Stream stream;
  DeviceReader reader(options_for(codec::DecodeMode::gpu));
  const HostImage level = reader.read_level(dicom, 0).to_host(stream);
  cuda::DeviceImage out(corners.size() * side, side, 3, DType::uint8, stream);
  DeviceReadReport report;
  reader.read_patches(dicom, 0, corners, side, side, out, &report);
  EXPECT_EQ(report.path, gpu_decode_path);
  testing::expect_patches_of(out.to_host(stream), level, corners, side, "DICOM level 0");
}

}  // namespace
}  // namespace tilestream::slide
