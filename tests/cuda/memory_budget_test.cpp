// Device allocations sized by the input are checked against the device memory available before
// cudaMallocAsync: a level larger than the device (a sparse BigTIFF of a few hundred kilobytes, its
// pixels never read) is refused by the device reader, the GPU pipeline's global mode and device convert
// with a ResourceError naming the file, the level and the ways out, not a CudaError from the allocator;
// the output store is not touched. Plus the arithmetic of the available figure.
#include "tilestream/cuda/memory_budget.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "support/cuda_test_support.hpp"
#include "support/sparse_tiff.hpp"
#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/pipeline/device_backend.hpp"
#include "tilestream/convert/convert.hpp"
#include "tilestream/pipeline/pipeline.hpp"
#include "tilestream/slide/device_reader.hpp"

namespace tilestream::cuda {
namespace {

using tilestream::testing::temp_path;

TEST(DeviceMemoryFrom, FreeMemoryAndThePoolsUnusedPart) {
  const MemoryAvailable a = device_memory_from(1, 1000, 5000, 300, 100);
  EXPECT_EQ(a.bytes, 1200u);
  EXPECT_EQ(a.memory, "device memory of cuda:1");
  EXPECT_EQ(a.bound, "free device memory (cudaMemGetInfo) 1000 bytes (0.0 GiB) and 200 bytes (0.0 GiB) held unused "
                     "by the memory pool, of 5000 bytes (0.0 GiB) total");
  const MemoryAvailable b = device_memory_from(0, 1000, 5000, 100, 100);  // the pool holds nothing unused
  EXPECT_EQ(b.bytes, 1000u);
  EXPECT_EQ(b.bound.find("pool"), std::string::npos) << b.bound;
}

// A level of 3 x max(200 GB, twice the device's total memory) bytes' worth of RGB pixels, all sparse.
class DeviceMemoryCheck : public tilestream::testing::CudaTest {
 protected:
  void SetUp() override {
    CudaTest::SetUp();
    if (IsSkipped()) return;
    std::size_t free = 0, total = 0;
    ASSERT_EQ(cudaMemGetInfo(&free, &total), cudaSuccess);
    const std::uint64_t want = std::max<std::uint64_t>(200'000'000'000ull, 2ull * total);
    width_ = std::uint64_t{1} << 18;
    height_ = want / (3 * width_) + 1;
    path_ = temp_path("huge.tif");
    tilestream::testing::write_sparse_tiff(path_, width_, height_, 3, 4096);
  }
  void TearDown() override {
    if (!path_.empty()) std::filesystem::remove(path_);
  }
  std::uint64_t bytes() const { return width_ * height_ * 3; }
  void expect_refusal(const ResourceError& e, const std::string& what, std::vector<WayOut> ways) const {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path_ + ": level 0: " + what, 0), 0u) << message;
    EXPECT_NE(message.find(" of device memory of cuda:0, more than the "), std::string::npos) << message;
    EXPECT_NE(message.find("free device memory (cudaMemGetInfo)"), std::string::npos) << message;
    EXPECT_EQ(e.ways_out(), ways) << message;
  }
  std::string path_;
  std::uint64_t width_ = 0, height_ = 0;
};

TEST_F(DeviceMemoryCheck, WholeLevelReadIsRefusedBeforeAllocating) {
  const slide::Slide slide = slide::Slide::open(path_);
  slide::DeviceReader reader;
  try {
    const DeviceImage image = reader.read_level(slide, 0);
    FAIL() << "read " << image.size_bytes() << " bytes to the device";
  } catch (const ResourceError& e) {
    expect_refusal(e,
                   concat("reading ", height_, " x ", width_, " x 3 uint8 (the whole level) to the device needs ",
                          byte_count_text(bytes())),
                   {WayOut::region});
  }
  // A region of the same level reads (sparse tiles: zeros), so the file itself is fine.
  const DeviceImage part = reader.read_region(slide, 0, width_ - 300, height_ / 2, 300, 200);
  const HostImage host = part.to_host(Stream());
  ASSERT_EQ(host.size_bytes(), 300u * 200u * 3u);
  EXPECT_TRUE(std::all_of(host.bytes().begin(), host.bytes().end(), [](std::byte b) { return b == std::byte{0}; }));
}

TEST_F(DeviceMemoryCheck, GlobalModeIsRefusedBeforeTheOutput) {
  const slide::Slide slide = slide::Slide::open(path_);
  const auto backend = pipeline::make_device_backend({});
  const std::string out = temp_path("out.zarr");
  pipeline::ProcessOptions options;
  options.mode = pipeline::Mode::global;
  try {
    (void)pipeline::process_slide(slide, out, ops::Chain::parse(std::vector<std::string>{"sobel"}), options, *backend);
    FAIL() << "global mode ran";
  } catch (const ResourceError& e) {
    expect_refusal(e, "global mode on cuda:0", {WayOut::tiled_mode, WayOut::memory_budget});
  }
  EXPECT_FALSE(std::filesystem::exists(out)) << "the output was touched";
}

TEST_F(DeviceMemoryCheck, DeviceConvertInGlobalModeIsRefusedBeforeTheOutput) {
  const slide::Slide slide = slide::Slide::open(path_);
  const std::string out = temp_path("out.zarr");
  convert::ConvertOptions options;
  options.mode = pipeline::Mode::global;
  try {
    (void)convert::convert_slide(slide, out, options, *pipeline::make_device_backend({}));
    FAIL() << "device convert ran";
  } catch (const ResourceError& e) {
    expect_refusal(e, "global mode on cuda:0", {WayOut::tiled_mode, WayOut::memory_budget});
  }
  EXPECT_FALSE(std::filesystem::exists(out)) << "the output was touched";
}

}  // namespace
}  // namespace tilestream::cuda
