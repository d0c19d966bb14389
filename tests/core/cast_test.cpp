// cast_samples: every supported source type to float32 keeps values exactly (the extremes included),
// the identity copies, and unsupported or mis-sized casts are usage errors.
#include "tilestream/core/cast.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "tilestream/core/error.hpp"

namespace tilestream {
namespace {

template <class T>
std::vector<std::byte> bytes_of(const std::vector<T>& values) {
  std::vector<std::byte> out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

template <class T>
void expect_to_float(DType from) {
  const std::vector<T> values{std::numeric_limits<T>::min(), T(0), T(1), std::numeric_limits<T>::max(), T(100)};
  std::vector<std::byte> dst(values.size() * 4);
  cast_samples(bytes_of(values), from, dst, DType::float32);
  std::vector<float> got(values.size());
  std::memcpy(got.data(), dst.data(), dst.size());
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(got[i], static_cast<float>(values[i])) << i;
}

TEST(Cast, EveryIntegerTypeToFloat32KeepsValues) {
  expect_to_float<std::uint8_t>(DType::uint8);
  expect_to_float<std::int8_t>(DType::int8);
  expect_to_float<std::uint16_t>(DType::uint16);
  expect_to_float<std::int16_t>(DType::int16);
}

TEST(Cast, ThirtyTwoBitIntegersRoundToNearestEvenAsNumpy) {
  // numpy: np.array([...]).astype(np.float32)
  expect_to_float<std::uint32_t>(DType::uint32);
  expect_to_float<std::int32_t>(DType::int32);
  const std::vector<std::byte> src = bytes_of(std::vector<std::uint32_t>{16777217, 16777219, 4294967295u});
  std::vector<std::byte> dst(12);
  cast_samples(src, DType::uint32, dst, DType::float32);
  std::vector<float> got(3);
  std::memcpy(got.data(), dst.data(), dst.size());
  EXPECT_EQ(got, (std::vector<float>{16777216.0f, 16777220.0f, 4294967296.0f}));
}

TEST(Cast, Float16ToFloat32IsExact) {
  const std::vector<std::byte> src = bytes_of(std::vector<std::uint16_t>{0x3c00, 0xc000, 0x7bff, 0x0001, 0xfc00});
  std::vector<std::byte> dst(20);
  cast_samples(src, DType::float16, dst, DType::float32);
  std::vector<float> got(5);
  std::memcpy(got.data(), dst.data(), dst.size());
  EXPECT_EQ(got, (std::vector<float>{1.0f, -2.0f, 65504.0f, 5.9604644775390625e-08f, -INFINITY}));
}

TEST(Cast, IdentityCopiesAndFloatToFloatIsIdentity) {
  const std::vector<std::byte> src = bytes_of(std::vector<std::uint16_t>{1, 65535, 7});
  std::vector<std::byte> dst(src.size());
  cast_samples(src, DType::uint16, dst, DType::uint16);
  EXPECT_EQ(dst, src);
  const std::vector<std::byte> f = bytes_of(std::vector<float>{-1.5f, 3.25f});
  std::vector<std::byte> g(f.size());
  cast_samples(f, DType::float32, g, DType::float32);
  EXPECT_EQ(g, f);
}

TEST(Cast, NarrowingAndMisSizedCastsAreUsageErrors) {
  EXPECT_FALSE(cast_supported(DType::float32, DType::uint8));
  EXPECT_FALSE(cast_supported(DType::uint16, DType::uint8));
  EXPECT_TRUE(cast_supported(DType::int16, DType::float32));
  std::vector<std::byte> src(8), dst(8);
  EXPECT_THROW(cast_samples(src, DType::float32, dst, DType::uint8), UsageError);
  EXPECT_THROW(cast_samples(src, DType::uint8, dst, DType::float32), UsageError);  // needs 32 bytes
  try {
    check_cast(DType::uint16, DType::uint8);
    ADD_FAILURE();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("uint16"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tilestream
