// DeviceReader::read_patches on generated slides: with nvJPEG each patch equals read_region of it
// (decode gpu) byte for byte, zero-padded where it sticks out of the level, each tile decoded once and
// repeated reads and other batchings identical; with decode cpu, and for slides nvJPEG does not take
// (uncompressed, 16-bit), it equals the host batch read (read_level_rects_to) exactly; nvJPEG's
// pixels are within the decode tolerance of the CPU's; progressive tiles fall back to the CPU and are
// counted; places no patch names are left as they were; a wrong output or patch is a usage error.
// Under decode auto the patch CPU share of the level's tiles (cpu_share_tile) is decoded by CPU
// threads beside nvJPEG: share 1 gives the host's pixels, share 0 decode gpu's, a share between gives
// each pixel from the decoder its tile's number draws; decode gpu shares nothing.
#include "tilestream/slide/device_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/pixel_difference.hpp"
#include "support/place_patches_cases.hpp"
#include "support/temp_path.hpp"
#include "tilestream/codec/nvjpeg.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/level0_region.hpp"
#include "tilestream/slide/place_patches.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::slide {
namespace {

using cuda::DeviceImage;
using cuda::Stream;
using testing::temp_path;

constexpr unsigned char untouched = 0x55;

// Skips unless nvJPEG runs here (a failure: the GPU machine is expected to have it).
bool require_nvjpeg() {
  const codec::nvjpeg::ResolvedDecode decode =
      codec::nvjpeg::resolve_device_decode(codec::DecodeMode::automatic, 0);
  if (!decode.gpu) ADD_FAILURE() << "nvJPEG is not available on this GPU machine: " << decode.detail;
  return decode.gpu;
}

DeviceReaderOptions options_for(codec::DecodeMode decode, unsigned threads = 4) {
  DeviceReaderOptions o;
  o.threads = threads;
  o.decode = decode;
  return o;
}

// A two-level slide whose sides are not multiples of the tile.
std::string write_slide(const std::string& name, std::uint16_t compression, std::uint32_t samples = 3,
                        DType dtype = DType::uint8, bool progressive = false) {
  synth::SynthOptions o;
  o.width = 1100;
  o.height = 750;
  o.tile = 256;
  o.levels = 2;
  o.samples = samples;
  o.dtype = dtype;
  o.compression = compression;
  o.jpeg_progressive = progressive;
  o.threads = 2;
  const std::string path = temp_path(name + ".tif");
  synth::write_synthetic_slide(path, o);
  return path;
}

PatchGeometry geometry_of(const Slide& slide, std::size_t level, std::uint64_t width, std::uint64_t height) {
  const tiff::ImageInfo& image = slide.level(level).image;
  return {image.width, image.height, image.tile_width, image.tile_height, image.samples, image.dtype,
          width,       height};
}

// The batch read by read_patches into an output prefilled with `untouched`.
HostImage read_on_device(DeviceReader& reader, const Slide& slide, std::size_t level,
                         const testing::PatchBatch& batch, const PatchGeometry& g,
                         DeviceReadReport* report = nullptr) {
  const Stream stream;
  DeviceImage out(batch.count * g.patch_height, g.patch_width, g.samples, g.dtype, stream);
  out.buffer().fill(untouched, stream);
  stream.synchronize();  // the reader's streams do not wait for ours
  reader.read_patches(slide, level, batch.corners, g.patch_width, g.patch_height, out, report);
  return out.to_host(stream);
}

// The batch as the host reads it: each patch's rectangle, zeros outside the level, unnamed places
// `untouched`.
HostImage read_on_host(const Slide& slide, std::size_t level, const testing::PatchBatch& batch,
                       const PatchGeometry& g) {
  HostImage host(batch.count * g.patch_height, g.patch_width, g.samples, g.dtype);
  std::memset(host.data(), untouched, host.size_bytes());
  std::vector<LevelRect> rects;
  std::vector<std::byte*> destinations;
  for (const PatchCorner& p : batch.corners) {
    rects.push_back({p.x, p.y, g.patch_width, g.patch_height});
    destinations.push_back(host.data() + std::size_t{p.index} * g.patch_bytes());
  }
  read_level_rects_to(slide, level, rects, destinations, g.patch_row_bytes(), 2);
  return host;
}

// The batch built from read_region of each patch's part inside the level (by `reader`), zeros around
// it, unnamed places `untouched`.
HostImage read_by_regions(DeviceReader& reader, const Slide& slide, std::size_t level,
                          const testing::PatchBatch& batch, const PatchGeometry& g) {
  HostImage expected(batch.count * g.patch_height, g.patch_width, g.samples, g.dtype);
  std::memset(expected.data(), untouched, expected.size_bytes());
  const Stream stream;
  const std::size_t pixel = g.pixel_bytes();
  for (const PatchCorner& p : batch.corners) {
    std::byte* patch = expected.data() + std::size_t{p.index} * g.patch_bytes();
    std::memset(patch, 0, g.patch_bytes());
    const std::int64_t left = std::max<std::int64_t>(p.x, 0), top = std::max<std::int64_t>(p.y, 0);
    const std::int64_t right =
        std::min(p.x + static_cast<std::int64_t>(g.patch_width), static_cast<std::int64_t>(g.image_width));
    const std::int64_t bottom =
        std::min(p.y + static_cast<std::int64_t>(g.patch_height), static_cast<std::int64_t>(g.image_height));
    if (left >= right || top >= bottom) continue;
    const auto w = static_cast<std::uint64_t>(right - left), h = static_cast<std::uint64_t>(bottom - top);
    const HostImage region = reader
                                 .read_region(slide, level, static_cast<std::uint64_t>(left),
                                              static_cast<std::uint64_t>(top), w, h)
                                 .to_host(stream);
    for (std::uint64_t r = 0; r < h; ++r) {
      std::memcpy(
          patch + static_cast<std::size_t>(top - p.y + static_cast<std::int64_t>(r)) * g.patch_row_bytes() +
              static_cast<std::size_t>(left - p.x) * pixel,
          region.row(r), w * pixel);
    }
  }
  return expected;
}

constexpr auto equal = testing::same_bytes;

// Where two batches differ first: patch, row and byte, for the failure message.
std::string first_difference(const HostImage& a, const HostImage& b, const PatchGeometry& g) {
  const std::size_t n = std::min(a.size_bytes(), b.size_bytes());
  for (std::size_t i = 0; i < n; ++i) {
    if (a.data()[i] != b.data()[i]) {
      return concat("patch ", i / g.patch_bytes(), " row ", i % g.patch_bytes() / g.patch_row_bytes(),
                    " byte ", i % g.patch_row_bytes(), ": ", std::to_integer<int>(a.data()[i]), " vs ",
                    std::to_integer<int>(b.data()[i]));
    }
  }
  return a.size_bytes() == b.size_bytes() ? "none" : "sizes differ";
}

using Difference = testing::PixelDifference;
constexpr auto difference = testing::pixel_difference;

struct PatchSize {
  std::uint64_t width, height;
};
// Larger than a 256-pixel tile (each patch over up to 4 tiles), and smaller (many patches a tile).
const PatchSize patch_sizes[] = {{300, 260}, {64, 48}};

struct JpegCase {
  std::string name;
  std::uint32_t samples;
};

void PrintTo(const JpegCase& c, std::ostream* out) { *out << c.name; }

class ReadPatchesJpeg : public testing::CudaTestWithParam<JpegCase> {};

TEST_P(ReadPatchesJpeg, DecodeGpuEqualsReadRegionOfEachPatch) {
  if (!require_nvjpeg()) return;
  const std::string path = write_slide(GetParam().name, codec::compression::jpeg, GetParam().samples);
  const Slide slide = Slide::open(path);
  DeviceReader reader(options_for(codec::DecodeMode::gpu));
  for (std::size_t level = 0; level < slide.level_count(); ++level) {
    for (const PatchSize& size : patch_sizes) {
      SCOPED_TRACE(concat("level ", level, ", patches ", size.width, " x ", size.height));
      const PatchGeometry g = geometry_of(slide, level, size.width, size.height);
      const testing::PatchBatch batch = testing::edge_case_patches(g, 21, 30);
      const PatchPlan plan = plan_patches(g, batch.corners, batch.count);
      DeviceReadReport report;
      const HostImage got = read_on_device(reader, slide, level, batch, g, &report);
      EXPECT_EQ(report.path, gpu_decode_path);
      EXPECT_EQ(report.decode.tiles_gpu, plan.tiles.size()) << "each tile the patches touch, once";
      EXPECT_EQ(report.decode.tiles_cpu, 0u) << report.decode.fallback_reason;
      const HostImage want = read_by_regions(reader, slide, level, batch, g);
      EXPECT_TRUE(equal(got, want)) << first_difference(got, want, g);
      // Again, and with other batchings: one tile a batch on one thread, three on two lanes.
      EXPECT_TRUE(equal(got, read_on_device(reader, slide, level, batch, g))) << "a repeated read differs";
      DeviceReaderOptions one = options_for(codec::DecodeMode::gpu, 1);
      one.jpeg_batch_tiles = 1;
      DeviceReader one_reader(one);
      const HostImage by_one = read_on_device(one_reader, slide, level, batch, g);
      EXPECT_TRUE(equal(got, by_one)) << "one tile a batch: " << first_difference(got, by_one, g);
      DeviceReaderOptions three = options_for(codec::DecodeMode::gpu, 2);
      three.jpeg_batch_tiles = 3;
      three.jpeg_lanes = 2;
      DeviceReader three_reader(three);
      const HostImage by_three = read_on_device(three_reader, slide, level, batch, g);
      EXPECT_TRUE(equal(got, by_three)) << "three tiles a batch: " << first_difference(got, by_three, g);
    }
  }
}

TEST_P(ReadPatchesJpeg, DecodeCpuEqualsTheHostAndGpuIsWithinTolerance) {
  const std::string path = write_slide(GetParam().name, codec::compression::jpeg, GetParam().samples);
  const Slide slide = Slide::open(path);
  DeviceReader cpu_reader(options_for(codec::DecodeMode::cpu));
  for (std::size_t level = 0; level < slide.level_count(); ++level) {
    for (const PatchSize& size : patch_sizes) {
      SCOPED_TRACE(concat("level ", level, ", patches ", size.width, " x ", size.height));
      const PatchGeometry g = geometry_of(slide, level, size.width, size.height);
      const testing::PatchBatch batch = testing::edge_case_patches(g, 22, 30);
      const HostImage host = read_on_host(slide, level, batch, g);
      DeviceReadReport report;
      const HostImage cpu = read_on_device(cpu_reader, slide, level, batch, g, &report);
      EXPECT_EQ(report.path, cpu_decode_path);
      EXPECT_EQ(report.decode.decoder, "CPU");
      EXPECT_TRUE(equal(cpu, host)) << first_difference(cpu, host, g);
      if (!require_nvjpeg()) return;
      DeviceReader gpu_reader(options_for(codec::DecodeMode::gpu));
      const HostImage gpu = read_on_device(gpu_reader, slide, level, batch, g);
      const Difference d = difference(gpu, host);
      std::printf("[ patches  ] %s level %zu, %llu x %llu: max |diff| %d, mean |diff| %.4f\n",
                  GetParam().name.c_str(), level, static_cast<unsigned long long>(size.width),
                  static_cast<unsigned long long>(size.height), d.max, d.mean);
      EXPECT_LE(d.max, 4);
      EXPECT_LE(d.mean, 0.5);
    }
  }
}

// A reader under `decode` whose 6 threads leave 4 for the CPU share beside 2 nvJPEG lanes.
DeviceReaderOptions share_options(codec::DecodeMode decode, std::optional<double> share) {
  DeviceReaderOptions o = options_for(decode, 6);
  o.jpeg_lanes = 2;
  o.patch_cpu_share = share;
  return o;
}

std::uint64_t tiles_across(const PatchGeometry& g) {
  return (g.image_width + g.tile_width - 1) / g.tile_width;
}

// The plan's tiles that the CPU share `share` takes.
std::uint64_t tiles_in_share(const PatchPlan& plan, const PatchGeometry& g, double share) {
  return static_cast<std::uint64_t>(
      std::count_if(plan.tiles.begin(), plan.tiles.end(), [&](const TileSlot& t) {
        return cpu_share_tile(std::uint64_t{t.row} * tiles_across(g) + t.column, share);
      }));
}

// The batch as a CPU share `share` should give it: each pixel inside the level from `cpu` where the
// tile it lies in is in the share, else from `gpu` (pixels outside the level and unnamed places too).
HostImage mixed_by_share(const HostImage& cpu, const HostImage& gpu, const testing::PatchBatch& batch,
                         const PatchGeometry& g, double share) {
  HostImage mixed(gpu.height(), gpu.width(), gpu.samples(), gpu.dtype());
  std::memcpy(mixed.data(), gpu.data(), gpu.size_bytes());
  const std::size_t pixel = g.pixel_bytes();
  const auto W = static_cast<std::int64_t>(g.image_width), H = static_cast<std::int64_t>(g.image_height);
  for (const PatchCorner& p : batch.corners) {
    for (std::uint64_t r = 0; r < g.patch_height; ++r) {
      for (std::uint64_t c = 0; c < g.patch_width; ++c) {
        const std::int64_t x = p.x + static_cast<std::int64_t>(c), y = p.y + static_cast<std::int64_t>(r);
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        const std::uint64_t number = static_cast<std::uint64_t>(y) / g.tile_height * tiles_across(g) +
                                     static_cast<std::uint64_t>(x) / g.tile_width;
        if (!cpu_share_tile(number, share)) continue;
        const std::size_t at = std::size_t{p.index} * g.patch_bytes() + r * g.patch_row_bytes() + c * pixel;
        std::memcpy(mixed.data() + at, cpu.data() + at, pixel);
      }
    }
  }
  return mixed;
}

// decode auto with the patch CPU share at 1, 0 and between: all tiles on the CPU threads give the
// host's pixels; none gives decode gpu's; a share between gives each pixel from its tile's decoder
// (the tile's number draws it, whatever the batch), and counts the tiles each took. decode gpu shares
// nothing, whatever the share asked for.
TEST_P(ReadPatchesJpeg, DecodeAutoSharesAFixedSetOfTilesWithCpuThreads) {
  if (!require_nvjpeg()) return;
  const std::string path =
      write_slide(GetParam().name + "_share", codec::compression::jpeg, GetParam().samples);
  const Slide slide = Slide::open(path);
  constexpr double between = 0.35;  // on level 0's 15 tiles: tiles 3, 10 and 11; on level 1's 6: tile 3
  DeviceReader all_cpu(share_options(codec::DecodeMode::automatic, 1.0));
  DeviceReader none_cpu(share_options(codec::DecodeMode::automatic, 0.0));
  DeviceReader some_cpu(share_options(codec::DecodeMode::automatic, between));
  DeviceReader gpu(options_for(codec::DecodeMode::gpu));
  DeviceReader gpu_asked_to_share(share_options(codec::DecodeMode::gpu, 1.0));
  bool some_mixed = false;  // a batch whose tiles went to both decoders
  for (std::size_t level = 0; level < slide.level_count(); ++level) {
    for (const PatchSize& size : patch_sizes) {
      SCOPED_TRACE(concat("level ", level, ", patches ", size.width, " x ", size.height));
      const PatchGeometry g = geometry_of(slide, level, size.width, size.height);
      const testing::PatchBatch batch = testing::edge_case_patches(g, 25, 30);
      const PatchPlan plan = plan_patches(g, batch.corners, batch.count);
      const std::uint64_t tiles = plan.tiles.size();
      ASSERT_GT(tiles, 0u);

      DeviceReadReport report;
      const HostImage on_cpu = read_on_device(all_cpu, slide, level, batch, g, &report);
      EXPECT_EQ(report.path, gpu_decode_path);
      EXPECT_EQ(report.decode.tiles_cpu, tiles);
      EXPECT_EQ(report.decode.tiles_gpu, 0u);
      EXPECT_EQ(report.decode.fallback_reason.rfind(
                    concat("decode auto: ", tiles, " of the batch's ", tiles, " tiles"), 0),
                0u)
          << report.decode.fallback_reason;
      const HostImage host = read_on_host(slide, level, batch, g);
      EXPECT_TRUE(equal(on_cpu, host)) << "share 1: " << first_difference(on_cpu, host, g);

      const HostImage on_gpu = read_on_device(none_cpu, slide, level, batch, g, &report);
      EXPECT_EQ(report.path, gpu_decode_path);
      EXPECT_EQ(report.decode.tiles_cpu, 0u) << report.decode.fallback_reason;
      EXPECT_EQ(report.decode.tiles_gpu, tiles);
      const HostImage by_gpu = read_on_device(gpu, slide, level, batch, g);
      EXPECT_TRUE(equal(on_gpu, by_gpu)) << "share 0: " << first_difference(on_gpu, by_gpu, g);

      const HostImage some = read_on_device(some_cpu, slide, level, batch, g, &report);
      const std::uint64_t shared = tiles_in_share(plan, g, between);
      EXPECT_EQ(report.decode.tiles_cpu, shared) << report.decode.fallback_reason;
      EXPECT_EQ(report.decode.tiles_gpu, tiles - shared);
      if (shared > 0) {
        EXPECT_EQ(report.decode.fallback_reason.rfind(
                      concat("decode auto: ", shared, " of the batch's ", tiles, " tiles"), 0),
                  0u)
            << report.decode.fallback_reason;
      }
      some_mixed = some_mixed || (shared > 0 && shared < tiles);
      const HostImage want = mixed_by_share(on_cpu, on_gpu, batch, g, between);
      EXPECT_TRUE(equal(some, want)) << "share " << between << ": " << first_difference(some, want, g);
      EXPECT_TRUE(equal(some, read_on_device(some_cpu, slide, level, batch, g))) << "a repeated read differs";

      const HostImage asked = read_on_device(gpu_asked_to_share, slide, level, batch, g, &report);
      EXPECT_EQ(report.decode.tiles_cpu, 0u) << "decode gpu: " << report.decode.fallback_reason;
      EXPECT_EQ(report.decode.tiles_gpu, tiles);
      EXPECT_TRUE(equal(asked, by_gpu)) << "decode gpu, share 1: " << first_difference(asked, by_gpu, g);
    }
  }
  EXPECT_TRUE(some_mixed) << "no batch had tiles in and out of the share " << between;
}

// decode auto with the patch split: the patches whose positions draw into the share (cpu_share_patch)
// are the host's pixels exactly (the CPU path read them), the others decode gpu's exactly (nvJPEG
// decoded their tiles whole), whatever else the batch holds; a repeated read is equal, and the report
// counts the tiles under the CPU's patches. Share 1 reads every patch on the CPU.
TEST_P(ReadPatchesJpeg, DecodeAutoSplitsPatchPositionsWithCpuThreads) {
  if (!require_nvjpeg()) return;
  const std::string path =
      write_slide(GetParam().name + "_split", codec::compression::jpeg, GetParam().samples);
  const Slide slide = Slide::open(path);
  constexpr double between = 0.5;
  DeviceReaderOptions some_options = share_options(codec::DecodeMode::automatic, between);
  some_options.patch_split = PatchSplit::patches;
  DeviceReaderOptions all_options = share_options(codec::DecodeMode::automatic, 1.0);
  all_options.patch_split = PatchSplit::patches;
  DeviceReader some_cpu(some_options);
  DeviceReader all_cpu(all_options);
  DeviceReader gpu(options_for(codec::DecodeMode::gpu));
  bool some_mixed = false;  // a batch whose patches went to both
  for (std::size_t level = 0; level < slide.level_count(); ++level) {
    for (const PatchSize& size : patch_sizes) {
      SCOPED_TRACE(concat("level ", level, ", patches ", size.width, " x ", size.height));
      const PatchGeometry g = geometry_of(slide, level, size.width, size.height);
      const testing::PatchBatch batch = testing::edge_case_patches(g, 25, 30);
      const HostImage host = read_on_host(slide, level, batch, g);
      const HostImage by_gpu = read_on_device(gpu, slide, level, batch, g);

      DeviceReadReport report;
      const HostImage all = read_on_device(all_cpu, slide, level, batch, g, &report);
      EXPECT_EQ(report.decode.tiles_gpu, 0u);
      EXPECT_TRUE(equal(all, host)) << "share 1: " << first_difference(all, host, g);

      const HostImage some = read_on_device(some_cpu, slide, level, batch, g, &report);
      std::vector<PatchCorner> cpu_corners;
      HostImage want(by_gpu.height(), by_gpu.width(), by_gpu.samples(), by_gpu.dtype());
      std::memcpy(want.data(), by_gpu.data(), by_gpu.size_bytes());
      for (const PatchCorner& p : batch.corners) {
        if (!cpu_share_patch(p.x, p.y, between)) continue;
        cpu_corners.push_back(p);
        const std::size_t at = std::size_t{p.index} * g.patch_bytes();
        std::memcpy(want.data() + at, host.data() + at, g.patch_bytes());
      }
      const std::uint64_t cpu_tiles =
          cpu_corners.empty() ? 0 : plan_patches(g, cpu_corners, batch.count).tiles.size();
      EXPECT_EQ(report.decode.tiles_cpu, cpu_tiles) << report.decode.fallback_reason;
      if (!cpu_corners.empty()) {
        EXPECT_EQ(report.decode.fallback_reason.rfind(
                      concat("decode auto: ", cpu_corners.size(), " of the batch's ", batch.corners.size(), " patches"), 0),
                  0u)
            << report.decode.fallback_reason;
      }
      some_mixed = some_mixed || (!cpu_corners.empty() && cpu_corners.size() < batch.corners.size());
      EXPECT_TRUE(equal(some, want)) << "share " << between << ": " << first_difference(some, want, g);
      EXPECT_TRUE(equal(some, read_on_device(some_cpu, slide, level, batch, g))) << "a repeated read differs";
    }
  }
  EXPECT_TRUE(some_mixed) << "no batch had patches in and out of the share " << between;
}

INSTANTIATE_TEST_SUITE_P(Samples, ReadPatchesJpeg,
                         ::testing::Values(JpegCase{"ycbcr", 3}, JpegCase{"gray", 1}),
                         [](const auto& param_info) { return param_info.param.name; });

using ReadPatches = testing::CudaTest;

// Progressive tiles go to the CPU decoder, each once, counted; their pixels are the host's exactly.
TEST_F(ReadPatches, ProgressiveTilesFallBackToTheCpu) {
  if (!require_nvjpeg()) return;
  const std::string path = write_slide("progressive", codec::compression::jpeg, 3, DType::uint8, true);
  const Slide slide = Slide::open(path);
  DeviceReader reader(options_for(codec::DecodeMode::gpu));
  const PatchGeometry g = geometry_of(slide, 0, 300, 260);
  const testing::PatchBatch batch = testing::edge_case_patches(g, 23, 30);
  const PatchPlan plan = plan_patches(g, batch.corners, batch.count);
  DeviceReadReport report;
  const HostImage got = read_on_device(reader, slide, 0, batch, g, &report);
  EXPECT_EQ(report.path, gpu_decode_path);
  EXPECT_EQ(report.decode.tiles_gpu, 0u);
  EXPECT_EQ(report.decode.tiles_cpu, plan.tiles.size());
  EXPECT_EQ(report.decode.fallback_reason, "progressive JPEG");
  const HostImage host = read_on_host(slide, 0, batch, g);
  EXPECT_TRUE(equal(got, host)) << first_difference(got, host, g);
}

// Tiles nvJPEG does not take (uncompressed, 16-bit) are read on the CPU, whatever the decode mode,
// and equal the host's exactly.
TEST_F(ReadPatches, UncompressedSlidesTakeTheCpuPathExactly) {
  struct Case {
    const char* name;
    std::uint16_t compression;
    std::uint32_t samples;
    DType dtype;
  };
  for (const Case& c : {Case{"raw_rgb8", codec::compression::none, 3, DType::uint8},
                        Case{"raw_gray16", codec::compression::none, 1, DType::uint16},
                        Case{"deflate_rgb16", codec::compression::deflate, 3, DType::uint16}}) {
    const std::string path = write_slide(c.name, c.compression, c.samples, c.dtype);
    const Slide slide = Slide::open(path);
    for (const codec::DecodeMode mode : {codec::DecodeMode::automatic, codec::DecodeMode::cpu}) {
      DeviceReader reader(options_for(mode));
      for (std::size_t level = 0; level < slide.level_count(); ++level) {
        SCOPED_TRACE(
            concat(c.name, " level ", level, " decode ", mode == codec::DecodeMode::cpu ? "cpu" : "auto"));
        const PatchGeometry g = geometry_of(slide, level, 97, 61);
        const testing::PatchBatch batch = testing::edge_case_patches(g, 24, 30);
        DeviceReadReport report;
        const HostImage got = read_on_device(reader, slide, level, batch, g, &report);
        EXPECT_EQ(report.path, cpu_decode_path);
        const HostImage host = read_on_host(slide, level, batch, g);
        EXPECT_TRUE(equal(got, host)) << first_difference(got, host, g);
      }
    }
  }
}

// Patches wholly outside the level are zeros, by either path, and no tile is read for them.
TEST_F(ReadPatches, PatchesWhollyOutsideAreZeros) {
  const std::string path = write_slide("outside", codec::compression::jpeg);
  const Slide slide = Slide::open(path);
  const PatchGeometry g = geometry_of(slide, 0, 64, 64);
  testing::PatchBatch batch;
  batch.corners = {{-64, 0, 2}, {1100, 10, 0}, {5, 750, 3}, {-5000, -5000, 1}};
  batch.count = 5;  // place 4 unnamed
  std::vector<codec::DecodeMode> modes = {codec::DecodeMode::cpu};
  if (require_nvjpeg()) modes.push_back(codec::DecodeMode::gpu);
  for (const codec::DecodeMode mode : modes) {
    DeviceReader reader(options_for(mode));
    DeviceReadReport report;
    const HostImage got = read_on_device(reader, slide, 0, batch, g, &report);
    EXPECT_EQ(report.decode.tiles_gpu + report.decode.tiles_cpu, 0u);
    for (std::size_t k = 0; k < batch.count; ++k) {
      const std::byte want = k == 4 ? std::byte{untouched} : std::byte{0};
      const std::byte* patch = got.data() + k * g.patch_bytes();
      EXPECT_TRUE(std::all_of(patch, patch + g.patch_bytes(), [&](std::byte b) { return b == want; }))
          << "patch " << k << ", decode " << (mode == codec::DecodeMode::cpu ? "cpu" : "gpu");
    }
  }
}

// The output must hold the level's samples and sample type, patches of the asked width stacked whole;
// every index must be inside it and the patches must not be empty.
TEST_F(ReadPatches, WrongOutputsAndPatchesAreUsageErrors) {
  const std::string path = write_slide("usage", codec::compression::jpeg);
  const Slide slide = Slide::open(path);
  DeviceReader reader(options_for(codec::DecodeMode::automatic));
  const Stream stream;
  const std::vector<PatchCorner> two = {{0, 0, 0}, {10, 10, 1}};
  struct Case {
    const char* name;
    std::uint64_t out_height, out_width;
    std::uint32_t samples;
    DType dtype;
    std::uint64_t width, height;
    std::vector<PatchCorner> corners;
    std::size_t level = 0;
  };
  const std::vector<Case> cases = {
      {"out narrower than the patches", 64, 31, 3, DType::uint8, 32, 32, two},
      {"out wider than the patches", 64, 33, 3, DType::uint8, 32, 32, two},
      {"out height not a multiple of the patch height", 63, 32, 3, DType::uint8, 32, 32, two},
      {"out of other samples", 64, 32, 1, DType::uint8, 32, 32, two},
      {"out of another sample type", 64, 32, 3, DType::uint16, 32, 32, two},
      {"an index past the output", 32, 32, 3, DType::uint8, 32, 32, two},
      {"empty patches", 64, 32, 3, DType::uint8, 0, 32, two},
      {"a level that does not exist", 64, 32, 3, DType::uint8, 32, 32, two, 7},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    DeviceImage out(c.out_height, c.out_width, c.samples, c.dtype, stream);
    stream.synchronize();
    EXPECT_THROW(reader.read_patches(slide, c.level, c.corners, c.width, c.height, out), UsageError);
  }
}

// Without a share asked for (and none in TILESTREAM_PATCH_CPU_SHARE), decode auto shares
// default_patch_cpu_share of the tiles where the reader has threads beyond its nvJPEG lanes, and none
// where it has not. A share outside 0 to 1 is a usage error.
TEST_F(ReadPatches, DecodeAutoDefaultShareNeedsThreadsBeyondTheLanes) {
  if (!require_nvjpeg()) return;
  const std::string path = write_slide("default_share", codec::compression::jpeg);
  const Slide slide = Slide::open(path);
  const PatchGeometry g = geometry_of(slide, 0, 300, 260);
  const testing::PatchBatch batch = testing::edge_case_patches(g, 26, 30);
  const PatchPlan plan = plan_patches(g, batch.corners, batch.count);
  if (const char* set = std::getenv("TILESTREAM_PATCH_CPU_SHARE"); set == nullptr || *set == '\0') {
    DeviceReader beyond(share_options(codec::DecodeMode::automatic, std::nullopt));
    DeviceReadReport report;
    (void)read_on_device(beyond, slide, 0, batch, g, &report);
    EXPECT_EQ(report.decode.tiles_cpu, tiles_in_share(plan, g, default_patch_cpu_share))
        << report.decode.fallback_reason;
    EXPECT_EQ(report.decode.tiles_cpu + report.decode.tiles_gpu, plan.tiles.size());
    DeviceReaderOptions four = options_for(codec::DecodeMode::automatic, 4);
    four.jpeg_lanes = 4;  // every thread a lane
    DeviceReader lanes_only(four);
    (void)read_on_device(lanes_only, slide, 0, batch, g, &report);
    EXPECT_EQ(report.decode.tiles_cpu, 0u) << report.decode.fallback_reason;
    EXPECT_EQ(report.decode.tiles_gpu, plan.tiles.size());
  }
  const Stream stream;
  DeviceImage out(batch.count * g.patch_height, g.patch_width, g.samples, g.dtype, stream);
  stream.synchronize();
  for (const double share : {-0.1, 1.5, std::nan("")}) {
    SCOPED_TRACE(share);
    DeviceReader reader(share_options(codec::DecodeMode::automatic, share));
    EXPECT_THROW(reader.read_patches(slide, 0, batch.corners, g.patch_width, g.patch_height, out),
                 UsageError);
  }
}

}  // namespace
}  // namespace tilestream::slide
