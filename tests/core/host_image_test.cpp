// HostImage sizes: exact byte counts, and clear errors instead of aborts for impossible sizes.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/core/host_image.hpp"

namespace tilestream {
namespace {

TEST(HostImage, SizesFollowShapeAndType) {
  const HostImage image(3, 5, 4, DType::uint16);
  EXPECT_EQ(image.pixel_bytes(), 8u);
  EXPECT_EQ(image.row_bytes(), 40u);
  EXPECT_EQ(image.size_bytes(), 120u);
  EXPECT_EQ(image.row(2) - image.row(0), 80);
}

// More than is available: tests/core/memory_budget_test.cpp.

TEST(HostImage, OverflowingShapesAreUsageErrors) {
  EXPECT_THROW(HostImage(UINT64_MAX / 2, 4, 3, DType::uint8), UsageError);
  EXPECT_THROW(HostImage(10, 10, 0, DType::uint8), UsageError);
}

// Large buffers come back for the next image of their size (no fresh pages to fault in), within the
// recycler's bounds; small ones are freed at once.
TEST(HostImage, LargeBuffersAreReusedForTheNextImageOfTheirSize) {
  const std::byte* first = nullptr;
  {
    HostImage batch(1024, 1024, 6, DType::uint8);  // 6 MiB: kept when it goes
    first = batch.data();
  }
  const std::size_t kept = recycled_host_bytes();
  EXPECT_GE(kept, std::size_t{6} << 20);
  {
    HostImage again(2048, 1024, 3, DType::uint8);  // the same bytes in another shape
    EXPECT_EQ(again.data(), first);
    EXPECT_EQ(recycled_host_bytes(), kept - (std::size_t{6} << 20));
    HostImage other(1024, 1024, 5, DType::uint8);  // another size: a buffer of its own
    EXPECT_NE(other.data(), first);
  }
  {
    const HostImage small(100, 100, 3, DType::uint8);  // small images are not kept
  }
  EXPECT_EQ(recycled_host_bytes(), kept + (std::size_t{5} << 20));
  // Never more than 8 buffers and 1 GiB: twelve 100 MiB images leave at most 8 x 100 MiB kept.
  {
    std::vector<HostImage> many;
    for (int k = 0; k < 12; ++k) many.emplace_back(100, 1 << 20, 1, DType::uint8);
  }
  EXPECT_LE(recycled_host_bytes(), std::size_t{8} * (100 << 20));
  // Moving keeps the buffer and its size with the image.
  HostImage moved(1024, 1024, 7, DType::uint8);
  const std::byte* where = moved.data();
  const HostImage target = std::move(moved);
  EXPECT_EQ(target.data(), where);
}

}  // namespace
}  // namespace tilestream
