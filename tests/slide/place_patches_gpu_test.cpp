// The CUDA patch placement kernel equals its CPU twin byte for byte: every geometry of the CPU tests,
// tile batches of any split, thousands of patches, outputs at odd addresses, and pieces whose tile is
// not in the buffer skipped instead of read.
#include "tilestream/slide/device_place_patches.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/place_patches_cases.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/cuda/memory.hpp"

namespace tilestream::slide {
namespace {

using cuda::DeviceBuffer;
using cuda::Stream;
using tilestream::testing::PatchCase;

constexpr unsigned char untouched = 0x55;

// The plan's tiles and pieces on the device, as the reader holds them.
struct DevicePlan {
  DeviceBuffer tiles;
  DeviceBuffer pieces;
};

DevicePlan upload(const PatchPlan& plan, const std::vector<std::byte>& tiles, const Stream& stream) {
  DevicePlan d{DeviceBuffer(std::max<std::size_t>(1, tiles.size()), stream),
               DeviceBuffer(std::max<std::size_t>(1, plan.pieces.size()) * sizeof(PatchPiece), stream)};
  copy_to_device(d.tiles, tiles, stream);
  copy_to_device(d.pieces, std::as_bytes(std::span<const PatchPiece>(plan.pieces)), stream);
  return d;
}

// Both placements, tile batch by tile batch of `split` tiles, into outputs prefilled with `untouched`
// that start `offset` bytes into their buffers.
struct BothResults {
  std::vector<std::byte> gpu;
  std::vector<std::byte> cpu;
};

BothResults place_both(const PatchGeometry& g, const PatchPlan& plan, const std::vector<std::byte>& tiles,
                       std::size_t count, std::size_t split, std::size_t offset = 0) {
  const std::size_t bytes = offset + count * g.patch_bytes();
  BothResults r;
  r.cpu.assign(bytes, std::byte{untouched});
  const Stream stream;
  const DevicePlan d = upload(plan, tiles, stream);
  DeviceBuffer out(bytes, stream);
  out.fill(untouched, stream);
  const auto* pieces = reinterpret_cast<const PatchPiece*>(d.pieces.data());
  for (std::size_t first = 0; first < plan.tiles.size(); first += split) {
    const std::size_t n = std::min(split, plan.tiles.size() - first);
    const auto base = static_cast<std::uint32_t>(first);
    const std::span<const PatchPiece> run = plan.pieces_of(first, n);
    place_patch_pieces(std::span<const std::byte>(tiles).subspan(first * g.tile_bytes(), n * g.tile_bytes()),
                       base, run, g, r.cpu.data() + offset);
    place_patch_pieces(d.tiles.data() + first * g.tile_bytes(), base, n, pieces + plan.first_piece[first],
                       run.size(), g, out.data() + offset, stream);
  }
  r.gpu.resize(bytes);
  copy_to_host(r.gpu, out, stream);
  stream.synchronize();
  return r;
}

class PlacePatchesGpu : public testing::CudaTestWithParam<PatchCase> {};

TEST_P(PlacePatchesGpu, EqualsTheCpuTwinInEverySplit) {
  const PatchGeometry& g = GetParam().geometry;
  const std::vector<std::byte> level = testing::random_level(g, 3);
  const testing::PatchBatch batch = testing::edge_case_patches(g, 11);
  const PatchPlan plan = plan_patches(g, batch.corners, batch.count);
  const std::vector<std::byte> tiles = testing::cut_tiles(g, level, plan.tiles);
  const std::vector<std::byte> expected = testing::expected_patches(
      g, level, batch.corners, batch.count, std::byte{untouched}, std::byte{untouched});
  for (const std::size_t split :
       {std::size_t{1}, std::size_t{3}, std::max<std::size_t>(1, plan.tiles.size())}) {
    SCOPED_TRACE(concat(split, " tiles a batch"));
    const BothResults r = place_both(g, plan, tiles, batch.count, split);
    EXPECT_TRUE(r.gpu == r.cpu);
    EXPECT_TRUE(r.gpu == expected);
  }
}

// Outputs one and two bytes past an aligned address: the kernel's word size follows each row's
// alignment.
TEST_P(PlacePatchesGpu, OddAddressesEqualTheCpuTwin) {
  const PatchGeometry& g = GetParam().geometry;
  const std::vector<std::byte> level = testing::random_level(g, 4);
  const testing::PatchBatch batch = testing::edge_case_patches(g, 12);
  const PatchPlan plan = plan_patches(g, batch.corners, batch.count);
  const std::vector<std::byte> tiles = testing::cut_tiles(g, level, plan.tiles);
  for (const std::size_t offset : {std::size_t{1}, std::size_t{2}, std::size_t{8}}) {
    SCOPED_TRACE(concat("output at offset ", offset));
    const BothResults r = place_both(g, plan, tiles, batch.count, 2, offset);
    EXPECT_TRUE(r.gpu == r.cpu);
  }
}

INSTANTIATE_TEST_SUITE_P(Geometries, PlacePatchesGpu, ::testing::ValuesIn(testing::patch_cases()),
                         [](const auto& test_param) { return std::string(test_param.param.name); });

using PlacePatchesGpuBatch = testing::CudaTest;

// A training batch's shape: thousands of small patches over a seed-sized level, many per tile.
TEST_F(PlacePatchesGpuBatch, ThousandsOfPatchesEqualTheCpuTwin) {
  PatchGeometry g;
  g.image_width = 3001;
  g.image_height = 2003;
  g.tile_width = 256;
  g.tile_height = 256;
  g.samples = 3;
  g.patch_width = 48;
  g.patch_height = 32;
  const std::vector<std::byte> level = testing::random_level(g, 8);
  std::mt19937 rng(8);
  std::uniform_int_distribution<std::int64_t> across(-60, 3010), down(-40, 2010);
  std::vector<PatchCorner> corners;
  for (std::uint32_t k = 0; k < 5000; ++k) corners.push_back({across(rng), down(rng), 4999 - k});
  const PatchPlan plan = plan_patches(g, corners, corners.size());
  const std::vector<std::byte> tiles = testing::cut_tiles(g, level, plan.tiles);
  const BothResults r = place_both(g, plan, tiles, corners.size(), 16);
  EXPECT_TRUE(r.gpu == r.cpu);
  EXPECT_TRUE(r.cpu == testing::expected_patches(g, level, corners, corners.size(), std::byte{untouched},
                                                 std::byte{untouched}));
}

// Pieces whose tile lies outside [tile_base, tile_base + tile_count) are skipped: the output is the
// CPU twin's placement of the other pieces alone.
TEST_F(PlacePatchesGpuBatch, PiecesOfTilesNotInTheBufferAreSkipped) {
  const PatchGeometry g = testing::patch_cases().front().geometry;
  const std::vector<std::byte> level = testing::random_level(g, 6);
  const testing::PatchBatch batch = testing::edge_case_patches(g, 6);
  const PatchPlan plan = plan_patches(g, batch.corners, batch.count);
  ASSERT_GE(plan.tiles.size(), 6u);
  constexpr std::uint32_t first = 2;
  constexpr std::size_t n = 3;
  const std::vector<std::byte> tiles =
      testing::cut_tiles(g, level, std::span<const TileSlot>(plan.tiles).subspan(first, n));
  std::vector<std::byte> cpu(batch.count * g.patch_bytes(), std::byte{untouched});
  place_patch_pieces(tiles, first, plan.pieces_of(first, n), g, cpu.data());

  const Stream stream;
  DeviceBuffer device_tiles(tiles.size(), stream);
  copy_to_device(device_tiles, tiles, stream);
  DeviceBuffer pieces(plan.pieces.size() * sizeof(PatchPiece), stream);
  copy_to_device(pieces, std::as_bytes(std::span<const PatchPiece>(plan.pieces)), stream);
  DeviceBuffer out(cpu.size(), stream);
  out.fill(untouched, stream);
  place_patch_pieces(device_tiles.data(), first, n, reinterpret_cast<const PatchPiece*>(pieces.data()),
                     plan.pieces.size(), g, out.data(), stream);  // every piece of the plan
  std::vector<std::byte> gpu(cpu.size());
  copy_to_host(gpu, out, stream);
  stream.synchronize();
  EXPECT_TRUE(gpu == cpu);
}

TEST_F(PlacePatchesGpuBatch, EmptyPatchesAreUsageErrorsAndNoPiecesDoNothing) {
  PatchGeometry g = testing::patch_cases().front().geometry;
  const Stream stream;
  DeviceBuffer out(16, stream);
  out.fill(untouched, stream);
  EXPECT_NO_THROW(place_patch_pieces(nullptr, 0, 0, nullptr, 0, g, out.data(), stream));
  std::vector<std::byte> host(16);
  copy_to_host(host, out, stream);
  stream.synchronize();
  EXPECT_EQ(host, std::vector<std::byte>(16, std::byte{untouched}));
  g.patch_height = 0;
  DeviceBuffer pieces(sizeof(PatchPiece), stream);
  EXPECT_THROW(place_patch_pieces(nullptr, 0, 0, reinterpret_cast<const PatchPiece*>(pieces.data()), 1, g,
                                  out.data(), stream),
               UsageError);
  stream.synchronize();
}

}  // namespace
}  // namespace tilestream::slide
