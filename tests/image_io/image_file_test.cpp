// .npy round trips for every dtype, and PNG files that zlib and a PNG-aware check accept.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/image_io/image_file.hpp"

namespace tilestream::image_io {
namespace {

using ::tilestream::testing::temp_path;

HostImage pattern(std::uint64_t h, std::uint64_t w, std::uint32_t s, DType t) {
  HostImage im(h, w, s, t);
  for (std::size_t i = 0; i < im.size_bytes(); ++i) im.data()[i] = static_cast<std::byte>((i * 37 + 11) & 0xff);
  return im;
}

class NpyRoundTrip : public ::testing::TestWithParam<std::tuple<DType, std::uint32_t>> {};

TEST_P(NpyRoundTrip, LoadsWhatItSaved) {
  const auto [dtype, samples] = GetParam();
  const HostImage image = pattern(13, 7, samples, dtype);
  const std::string path = temp_path("roundtrip.npy");
  save_npy(image, path);
  const HostImage back = load_npy(path);
  std::filesystem::remove(path);
  EXPECT_EQ(back.height(), 13u);
  EXPECT_EQ(back.width(), 7u);
  EXPECT_EQ(back.samples(), samples);
  EXPECT_EQ(back.dtype(), dtype);
  EXPECT_EQ(std::memcmp(back.data(), image.data(), image.size_bytes()), 0);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, NpyRoundTrip,
                         ::testing::Combine(::testing::ValuesIn(all_dtypes),
                                            ::testing::Values(1u, 3u, 4u)));

std::vector<unsigned char> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::uint32_t be32(const unsigned char* p) { return (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

TEST(Png, IdatInflatesToFilteredRowsInBigEndian) {
  const HostImage image = pattern(5, 3, 3, DType::uint16);
  const std::string path = temp_path("image.png");
  save_png(image, path);
  const auto bytes = read_all(path);
  std::filesystem::remove(path);
  ASSERT_GT(bytes.size(), 8u + 25u);
  EXPECT_EQ(std::memcmp(bytes.data(), "\x89PNG\r\n\x1a\n", 8), 0);
  EXPECT_EQ(be32(&bytes[16]), 3u);  // IHDR width
  EXPECT_EQ(be32(&bytes[20]), 5u);  // IHDR height
  EXPECT_EQ(bytes[24], 16);         // bit depth
  EXPECT_EQ(bytes[25], 2);          // colour type RGB
  std::vector<unsigned char> idat;
  for (std::size_t at = 8; at + 12 <= bytes.size();) {
    const std::uint32_t length = be32(&bytes[at]);
    const std::string type(reinterpret_cast<const char*>(&bytes[at + 4]), 4);
    const uLong crc = crc32(crc32(0, &bytes[at + 4], 4), &bytes[at + 8], length);
    EXPECT_EQ(be32(&bytes[at + 8 + length]), static_cast<std::uint32_t>(crc)) << type;
    if (type == "IDAT") idat.insert(idat.end(), &bytes[at + 8], &bytes[at + 8 + length]);
    at += 12 + length;
  }
  std::vector<unsigned char> raw(5 * (1 + image.row_bytes()));
  uLongf raw_size = raw.size();
  ASSERT_EQ(uncompress(raw.data(), &raw_size, idat.data(), idat.size()), Z_OK);
  ASSERT_EQ(raw_size, raw.size());
  for (std::uint64_t y = 0; y < 5; ++y) {
    const unsigned char* row = &raw[y * (1 + image.row_bytes())];
    EXPECT_EQ(row[0], 0);
    const auto* src = reinterpret_cast<const std::uint16_t*>(image.row(y));
    for (std::size_t i = 0; i < 9; ++i) EXPECT_EQ((row[1 + 2 * i] << 8) | row[2 + 2 * i], src[i]);
  }
}

TEST(Png, RefusesSignedSamplesAndUnknownExtensions) {
  EXPECT_THROW(save_png(pattern(2, 2, 1, DType::int8), temp_path("signed.png")), UsageError);
  for (const DType wide : {DType::uint32, DType::int32, DType::float16}) {
    try {
      save_png(pattern(2, 2, 1, wide), temp_path("wide.png"));
      ADD_FAILURE() << to_string(wide) << " saved as PNG";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(concat("PNG cannot hold")), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(to_string(wide)), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(std::filesystem::exists(temp_path("wide.png")));
  EXPECT_THROW(save_image(pattern(2, 2, 1, DType::uint8), temp_path("out.jpg")), UsageError);
  EXPECT_FALSE(std::filesystem::exists(temp_path("signed.png")));
  EXPECT_FALSE(std::filesystem::exists(temp_path("signed.png.partial")));
}

}  // namespace
}  // namespace tilestream::image_io
