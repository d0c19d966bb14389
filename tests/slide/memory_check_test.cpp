// Reads sized by the input are checked against the host memory available before allocating: a level
// far larger than available (a sparse BigTIFF of a few hundred kilobytes) is refused with the file, the
// level and the way out named, while a region of the same level reads.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/sparse_tiff.hpp"
#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/memory_budget.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::slide {
namespace {

TEST(SlideMemoryCheck, WholeLevelLargerThanAvailableIsRefusedRegionReads) {
  constexpr std::uint64_t side = std::uint64_t{1} << 20;  // 1048576^2 x 3 bytes: 3 TiB
  const std::uint64_t bytes = side * side * 3;
  const MemoryAvailable available = available_host_memory();
  if (available.bytes >= bytes) GTEST_SKIP() << "this machine has " << available.bytes << " bytes available";
  const std::string path = tilestream::testing::temp_path("huge.tif");
  tilestream::testing::write_sparse_tiff(path, side, side, 3, 4096);
  const Slide slide = Slide::open(path);
  ASSERT_EQ(slide.level(0).image.width, side);
  try {
    const HostImage image = slide.read_level(0);
    FAIL() << "read " << image.size_bytes() << " bytes";
  } catch (const ResourceError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path + ": level 0: reading 1048576 x 1048576 x 3 uint8 (the whole image) needs " +
                                byte_count_text(bytes) + " of host memory, more than the ",
                            0),
              0u)
        << message;
    EXPECT_NE(message.find("available (" + available.bound.substr(0, 12)), std::string::npos) << message;
    EXPECT_EQ(e.ways_out(), std::vector<WayOut>{WayOut::region});
  }
  const HostImage part = slide.read_region(0, side - 100, side / 2, 100, 50);  // sparse tiles: zeros
  ASSERT_EQ(part.size_bytes(), 100u * 50u * 3u);
  for (const std::byte b : part.bytes()) ASSERT_EQ(b, std::byte{0});
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tilestream::slide
