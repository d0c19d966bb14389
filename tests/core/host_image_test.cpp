// HostImage sizes: exact byte counts, and clear errors instead of aborts for impossible sizes.
#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace tilestream
