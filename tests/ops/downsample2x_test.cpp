// The downsample2x op's 2x area mean on small known arrays: even and odd sizes, rounding half up,
// signed and float samples, several channels.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "support/downsample2x.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::ops {
namespace {

template <class T>
std::vector<T> run(const std::vector<T>& src, std::uint64_t h, std::uint64_t w, std::uint32_t samples,
                   DType dtype) {
  const std::vector<std::byte> bytes = testing::downsample2x_of(std::as_bytes(std::span(src)), h, w, samples, dtype);
  std::vector<T> dst(bytes.size() / sizeof(T));
  std::memcpy(dst.data(), bytes.data(), bytes.size());
  return dst;
}

TEST(Downsample, OddSizesAverageOnlyExistingPixels) {
  // 3 x 3, one channel:
  //   1 2 | 3
  //   4 6 | 8
  //   ----+--
  //   9 9 | 7
  const std::vector<std::uint8_t> src{1, 2, 3, 4, 6, 8, 9, 9, 7};
  // (1+2+4+6)/4 = 3.25 -> 3; (3+8)/2 = 5.5 -> 6 (half up); (9+9)/2 = 9; 7 alone.
  EXPECT_EQ(run(src, 3, 3, 1, DType::uint8), (std::vector<std::uint8_t>{3, 6, 9, 7}));
}

TEST(Downsample, RoundsHalfUp) {
  // 2 x 2 blocks with means 0.5, 1.5, 2.25, 254.75.
  const std::vector<std::uint8_t> src{0, 1, 1, 2, 2, 3, 255, 255,  //
                                      0, 1, 1, 2, 2, 3, 254, 255};
  EXPECT_EQ(run(src, 2, 8, 1, DType::uint8), (std::vector<std::uint8_t>{1, 2, 3, 255}));
  // (3 + 2 + 2 + 2) / 4 = 2.25 -> 2 (the 3rd block above is 2,3,2,3 = 2.5 -> 3).
  EXPECT_EQ(run(std::vector<std::uint8_t>{3, 2, 2, 2}, 2, 2, 1, DType::uint8),
            (std::vector<std::uint8_t>{2}));
}

TEST(Downsample, InterleavedChannelsStaySeparate) {
  // 1 x 3 RGB pixels: output 1 x 2.
  const std::vector<std::uint8_t> src{10, 20, 30, 11, 21, 31, 100, 200, 50};
  EXPECT_EQ(run(src, 1, 3, 3, DType::uint8), (std::vector<std::uint8_t>{11, 21, 31, 100, 200, 50}));
}

TEST(Downsample, Uint16Int16Float) {
  EXPECT_EQ(run(std::vector<std::uint16_t>{65535, 65534, 65535, 65535}, 2, 2, 1, DType::uint16),
            (std::vector<std::uint16_t>{65535}));  // 65534.75 -> 65535
  // Signed: -1.5 rounds half up to -1; -2.25 -> -2; -2.75 -> -3.
  EXPECT_EQ(run(std::vector<std::int16_t>{-1, -2}, 1, 2, 1, DType::int16), (std::vector<std::int16_t>{-1}));
  EXPECT_EQ(run(std::vector<std::int8_t>{-2, -2, -2, -3}, 2, 2, 1, DType::int8),
            (std::vector<std::int8_t>{-2}));
  EXPECT_EQ(run(std::vector<std::int8_t>{-3, -3, -3, -2}, 2, 2, 1, DType::int8),
            (std::vector<std::int8_t>{-3}));
  EXPECT_EQ(run(std::vector<float>{0.5f, 1.0f, 2.0f}, 1, 3, 1, DType::float32),
            (std::vector<float>{0.75f, 2.0f}));
}

TEST(Downsample, ThirtyTwoBitIntegersAndFloat16) {
  // Sums past 2^32 stay exact in int64: (4294967295 * 3 + 4294967294) / 4 = 4294967294.75 -> 4294967295.
  EXPECT_EQ(run(std::vector<std::uint32_t>{4294967295u, 4294967295u, 4294967295u, 4294967294u}, 2, 2, 1, DType::uint32),
            (std::vector<std::uint32_t>{4294967295u}));
  EXPECT_EQ(run(std::vector<std::int32_t>{-2147483647 - 1, -2147483647 - 1, 2147483647, 2147483647}, 2, 2, 1,
                DType::int32),
            (std::vector<std::int32_t>{0}));  // -0.5 rounds half up to 0
  // float16 bits: (1 + 2^-10) and 1 average to 1 + 2^-11, a tie between two halves: to even (1.0);
  // 65504 and 65504 stay; -2 alone stays.
  EXPECT_EQ(run(std::vector<std::uint16_t>{0x3c01, 0x3c00, 0x7bff, 0x7bff, 0xc000}, 1, 5, 1, DType::float16),
            (std::vector<std::uint16_t>{0x3c00, 0x7bff, 0xc000}));
}

TEST(Downsample, OnePixelAndOneRow) {
  EXPECT_EQ(run(std::vector<std::uint8_t>{42}, 1, 1, 1, DType::uint8), (std::vector<std::uint8_t>{42}));
  EXPECT_EQ(run(std::vector<std::uint8_t>{1, 2, 3, 4, 5}, 5, 1, 1, DType::uint8),
            (std::vector<std::uint8_t>{2, 4, 5}));
}

TEST(Downsample, EmptyImagesAreRefused) {
  EXPECT_THROW((void)make_op("downsample2x")->output_shape({0, 4, 3, DType::uint8}), UsageError);
}

}  // namespace
}  // namespace tilestream::ops
