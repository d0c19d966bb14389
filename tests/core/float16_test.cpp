// float16 conversions: every half to float and back is the identity (NaNs stay NaN), and double to
// half rounds to nearest even, as numpy's astype(float16) (the expected bits are numpy's).
#include "tilestream/core/float16.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace tilestream {
namespace {

TEST(Float16, EveryHalfRoundTripsThroughFloat) {
  for (std::uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto half = static_cast<std::uint16_t>(bits);
    const float value = float16_to_float(half);
    if ((half & 0x7c00u) == 0x7c00u && (half & 0x3ffu) != 0) {
      EXPECT_TRUE(std::isnan(value)) << bits;
      EXPECT_EQ(std::signbit(value), (half & 0x8000u) != 0) << bits;
      // The payload kept; a signalling NaN comes back quiet (float to double sets the quiet bit).
      EXPECT_EQ(float16_from_double(value) | 0x0200u, half | 0x0200u) << bits;
      continue;
    }
    EXPECT_EQ(float16_from_double(value), half) << bits;
  }
}

TEST(Float16, KnownValues) {
  EXPECT_EQ(float16_to_float(0x3c00), 1.0f);
  EXPECT_EQ(float16_to_float(0xc000), -2.0f);
  EXPECT_EQ(float16_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(float16_to_float(0x0001), std::ldexp(1.0f, -24));  // the smallest subnormal
  EXPECT_EQ(float16_to_float(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(float16_to_float(0x0400), std::ldexp(1.0f, -14));
  EXPECT_TRUE(std::isinf(float16_to_float(0xfc00)) && float16_to_float(0xfc00) < 0);
}

TEST(Float16, DoubleRoundsToNearestEvenAsNumpy) {
  struct Case {
    double value;
    std::uint16_t bits;
  };
  const Case cases[] = {
      {65520.0, 0x7c00},                       // half an ulp past the largest half: infinity
      {65519.99, 0x7bff},
      {65504.0, 0x7bff},
      {std::ldexp(1.0, -25), 0x0000},          // half the smallest subnormal: ties to even (0)
      {2.980232536792755e-08, 0x0001},         // just above it
      {1.00048828125, 0x3c00},                 // 1 + 2^-11: a tie, to even
      {1.00146484375, 0x3c02},                 // 1 + 3 * 2^-11: a tie, to even (up)
      {-0.0, 0x8000},
      {1e-8, 0x0000},
      {0.1, 0x2e66},
      {-8.940696716308594e-08, 0x8002},        // -1.5 * 2^-24: a tie, to even
      {1.4901161193847656e-07, 0x0002},        // 2.5 * 2^-24: a tie, to even
      {6.102025508880615e-05, 0x0400},         // rounds up from the subnormals into the normals
      {1e300, 0x7c00},
      {-INFINITY, 0xfc00},
  };
  for (const Case& c : cases) EXPECT_EQ(float16_from_double(c.value), c.bits) << c.value;
  EXPECT_TRUE(std::isnan(float16_to_float(float16_from_double(NAN))));
}

TEST(Float16, TotalOrder) {
  const Float16 ordered[] = {{0xfe00}, {0xfc00}, {0xc000}, {0x8001}, {0x8000}, {0x0000}, {0x0001}, {0x3c00}, {0x7c00}, {0x7e00}};
  for (std::size_t i = 0; i + 1 < std::size(ordered); ++i) {
    EXPECT_TRUE(ordered[i] < ordered[i + 1]) << i;
    EXPECT_FALSE(ordered[i + 1] < ordered[i]) << i;
  }
}

}  // namespace
}  // namespace tilestream
