// The CUDA tile placement kernel equals its CPU twin byte for byte on odd geometries, slot orders,
// missing tiles, row strides and alignments.
#include "tilestream/slide/device_place_tiles.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/place_tiles_cases.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::slide {
namespace {

using cuda::DeviceBuffer;
using cuda::DeviceImage;
using cuda::Stream;
using tilestream::testing::PlaceCase;

constexpr unsigned char untouched = 0x55;

// Runs both placements into outputs prefilled with `untouched`; rows `stride` bytes apart.
struct BothResults {
  std::vector<std::byte> gpu;
  std::vector<std::byte> cpu;
};

BothResults place_both(const PlaceGeometry& g, const std::vector<TileSlot>& slots, std::size_t stride) {
  const std::vector<std::byte> tiles = testing::make_tiles(g, slots);
  BothResults r;
  r.cpu.assign(stride * g.region_height, std::byte{untouched});
  slide::place_tiles(tiles, slots, g, r.cpu.data(), stride);

  Stream stream;
  DeviceBuffer device_tiles(tiles.size(), stream);
  copy_to_device(device_tiles, tiles, stream);
  DeviceBuffer out(r.cpu.size(), stream);
  out.fill(untouched, stream);
  place_tiles(device_tiles, slots, g, out.data(), stride, stream);
  r.gpu.resize(r.cpu.size());
  copy_to_host(r.gpu, out, stream);
  stream.synchronize();
  return r;
}

class PlaceTilesGpu : public testing::CudaTestWithParam<PlaceCase> {};

TEST_P(PlaceTilesGpu, DeviceImageEqualsTheCpuTwin) {
  const PlaceGeometry& g = GetParam().geometry;
  const std::vector<TileSlot> slots = slide::region_tile_slots(g);
  const std::vector<std::byte> tiles = testing::make_tiles(g, slots);
  HostImage cpu(g.region_height, g.region_width, g.samples, g.dtype);
  slide::place_tiles(tiles, slots, g, cpu.data(), cpu.row_bytes());

  Stream stream;
  DeviceBuffer device_tiles(tiles.size(), stream);
  copy_to_device(device_tiles, tiles, stream);
  DeviceImage image(g.region_height, g.region_width, g.samples, g.dtype, stream);
  place_tiles(device_tiles, slots, g, image, stream);
  const HostImage gpu = image.to_host(stream);
  ASSERT_EQ(gpu.size_bytes(), cpu.size_bytes());
  EXPECT_TRUE(std::equal(gpu.bytes().begin(), gpu.bytes().end(), cpu.bytes().begin()));
  const std::vector<std::byte> expected = testing::expected_region(g);
  EXPECT_TRUE(std::equal(gpu.bytes().begin(), gpu.bytes().end(), expected.begin()));
}

TEST_P(PlaceTilesGpu, ReversedSlotsAndPaddedRowsEqualTheCpuTwin) {
  const PlaceGeometry& g = GetParam().geometry;
  std::vector<TileSlot> slots = slide::region_tile_slots(g);
  std::reverse(slots.begin(), slots.end());
  const BothResults r = place_both(g, slots, g.region_row_bytes() + 3);
  EXPECT_EQ(r.gpu, r.cpu);
}

TEST_P(PlaceTilesGpu, MissingTilesLeaveTheSamePixelsUntouched) {
  const PlaceGeometry& g = GetParam().geometry;
  std::vector<TileSlot> all = slide::region_tile_slots(g);
  std::vector<TileSlot> every_other;
  for (std::size_t i = 0; i < all.size(); i += 2) every_other.push_back(all[i]);
  const BothResults r = place_both(g, every_other, g.region_row_bytes());
  EXPECT_EQ(r.gpu, r.cpu);
}

INSTANTIATE_TEST_SUITE_P(Geometries, PlaceTilesGpu, ::testing::ValuesIn(testing::place_cases()),
                         [](const auto& test_param) { return std::string(test_param.param.name); });

using PlaceTilesGpuEdges = testing::CudaTest;

// Every offset and length modulo 16 so each copy width of the kernel (16, 8, 4, 2, 1 bytes) runs.
TEST_F(PlaceTilesGpuEdges, EveryAlignmentEqualsTheCpuTwin) {
  for (const std::uint32_t samples : {1u, 3u, 4u}) {
    for (std::uint64_t x = 0; x < 16; ++x) {
      for (std::uint64_t extra = 0; extra < 16; extra += 5) {
        PlaceGeometry g;
        g.image_width = 96;
        g.image_height = 40;
        g.tile_width = 32;
        g.tile_height = 16;
        g.samples = samples;
        g.region_x = x;
        g.region_y = 3;
        g.region_width = 96 - x - extra;
        g.region_height = 30;
        SCOPED_TRACE(::testing::Message()
                     << "samples " << samples << " x " << x << " width " << g.region_width);
        for (const std::size_t pad : {std::size_t{0}, std::size_t{1}, std::size_t{16}}) {
          const BothResults r = place_both(g, slide::region_tile_slots(g), g.region_row_bytes() + pad);
          ASSERT_EQ(r.gpu, r.cpu) << "row padding " << pad;
        }
      }
    }
  }
}

TEST_F(PlaceTilesGpuEdges, TallStripsNeedMoreRowsThanOneGridHolds) {
  PlaceGeometry g;
  g.image_width = 3;
  g.image_height = 70001;
  g.tile_width = 3;
  g.tile_height = 70001;  // one strip taller than the 65535 rows of one grid dimension
  g.samples = 1;
  g.region_y = 5;
  g.region_width = 3;
  g.region_height = 69990;
  const BothResults r = place_both(g, slide::region_tile_slots(g), 3);
  EXPECT_EQ(r.gpu, r.cpu);
}

TEST_F(PlaceTilesGpuEdges, WrongImageShapeAndBadSlotsAreUsageErrors) {
  PlaceGeometry g;
  g.image_width = 20;
  g.image_height = 10;
  g.tile_width = 8;
  g.tile_height = 8;
  g.samples = 3;
  g.region_width = 20;
  g.region_height = 10;
  Stream stream;
  const std::vector<TileSlot> slots = slide::region_tile_slots(g);
  DeviceBuffer tiles(slots.size() * g.tile_bytes(), stream);
  DeviceImage wrong(10, 20, 4, DType::uint8, stream);
  EXPECT_THROW(place_tiles(tiles, slots, g, wrong, stream), UsageError);
  DeviceImage right(10, 20, 3, DType::uint8, stream);
  const std::vector<TileSlot> outside = {{3, 0}};
  EXPECT_THROW(place_tiles(tiles, outside, g, right, stream), UsageError);
  const DeviceBuffer short_tiles(g.tile_bytes(), stream);
  EXPECT_THROW(place_tiles(short_tiles, slots, g, right, stream), UsageError);
  stream.synchronize();
}

}  // namespace
}  // namespace tilestream::slide
