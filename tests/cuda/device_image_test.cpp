// Device images: host round trips, DLPack export (ABI layout, fields, ownership) and the deleter freeing
// the memory.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/cuda/device_image.hpp"
#include "tilestream/cuda/dlpack.hpp"
#include "tilestream/cuda/error.hpp"

namespace tilestream::cuda {
namespace {

// The DLPack v0.8 ABI on LP64: what consumers compiled against dlpack.h expect.
static_assert(sizeof(DLDevice) == 8);
static_assert(sizeof(DLDataType) == 4);
static_assert(offsetof(DLTensor, data) == 0);
static_assert(offsetof(DLTensor, device) == 8);
static_assert(offsetof(DLTensor, ndim) == 16);
static_assert(offsetof(DLTensor, dtype) == 20);
static_assert(offsetof(DLTensor, shape) == 24);
static_assert(offsetof(DLTensor, strides) == 32);
static_assert(offsetof(DLTensor, byte_offset) == 40);
static_assert(sizeof(DLTensor) == 48);
static_assert(offsetof(DLManagedTensor, manager_ctx) == 48);
static_assert(offsetof(DLManagedTensor, deleter) == 56);
static_assert(sizeof(DLManagedTensor) == 64);

TEST(DlpackDtype, CodesAndBitsFollowTheSampleType) {  // runs without a GPU
  struct Case {
    DType dtype;
    std::uint8_t code, bits;
  };
  for (const Case& c :
       {Case{DType::uint8, kDLUInt, 8}, Case{DType::uint16, kDLUInt, 16}, Case{DType::int8, kDLInt, 8},
        Case{DType::int16, kDLInt, 16}, Case{DType::float32, kDLFloat, 32}}) {
    SCOPED_TRACE(to_string(c.dtype));
    const DLDataType t = to_dlpack_dtype(c.dtype);
    EXPECT_EQ(t.code, c.code);
    EXPECT_EQ(t.bits, c.bits);
    EXPECT_EQ(t.lanes, 1);
  }
}

using CudaDeviceImage = testing::CudaTest;

std::vector<std::byte> pattern(std::size_t n) {
  std::vector<std::byte> bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::byte>((i * 31 + i / 251) & 0xff);
  return bytes;
}

std::size_t pool_used_bytes() {
  cudaMemPool_t pool = nullptr;
  check_cuda(cudaDeviceGetDefaultMemPool(&pool, 0), "cudaDeviceGetDefaultMemPool");
  std::uint64_t used = 0;
  check_cuda(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemCurrent, &used), "cudaMemPoolGetAttribute");
  return used;
}

TEST_F(CudaDeviceImage, ToHostReturnsTheUploadedPixels) {
  Stream stream;
  DeviceImage image(37, 53, 3, DType::uint16, stream);
  EXPECT_EQ(image.height(), 37u);
  EXPECT_EQ(image.width(), 53u);
  EXPECT_EQ(image.samples(), 3u);
  EXPECT_EQ(image.dtype(), DType::uint16);
  EXPECT_EQ(image.device(), 0);
  EXPECT_EQ(image.sample_stride(), 2u);
  EXPECT_EQ(image.pixel_stride(), 6u);
  EXPECT_EQ(image.row_stride(), 53u * 6);
  EXPECT_EQ(image.size_bytes(), 37u * 53 * 6);
  const std::vector<std::byte> sent = pattern(image.size_bytes());
  copy_to_device(image.buffer(), sent, stream);
  const HostImage host = image.to_host(stream);
  EXPECT_EQ(host.height(), 37u);
  EXPECT_EQ(host.width(), 53u);
  EXPECT_EQ(host.samples(), 3u);
  EXPECT_EQ(host.dtype(), DType::uint16);
  ASSERT_EQ(host.size_bytes(), sent.size());
  EXPECT_EQ(std::memcmp(host.data(), sent.data(), sent.size()), 0);
}

TEST_F(CudaDeviceImage, BadShapesAreUsageErrors) {
  Stream stream;
  EXPECT_THROW(DeviceImage(10, 10, 0, DType::uint8, stream), UsageError);
  EXPECT_THROW(DeviceImage(UINT64_MAX / 2, 4, 3, DType::uint8, stream), UsageError);
}

TEST_F(CudaDeviceImage, DlpackExportDescribesTheImage) {
  Stream stream;
  DeviceImage image(5, 7, 4, DType::float32, stream);
  const std::vector<std::byte> sent = pattern(image.size_bytes());
  copy_to_device(image.buffer(), sent, stream);
  const std::byte* pixels = image.data();
  DLManagedTensor* managed = std::move(image).to_dlpack();
  ASSERT_NE(managed, nullptr);
  EXPECT_EQ(image.data(), nullptr);  // NOLINT(bugprone-use-after-move): the image gave its memory away
  EXPECT_EQ(image.height(), 0u);     // NOLINT(bugprone-use-after-move)
  const DLTensor& t = managed->dl_tensor;
  EXPECT_EQ(t.data, pixels);
  EXPECT_EQ(t.device.device_type, kDLCUDA);
  EXPECT_EQ(t.device.device_id, 0);
  EXPECT_EQ(t.ndim, 3);
  EXPECT_EQ(t.dtype.code, kDLFloat);
  EXPECT_EQ(t.dtype.bits, 32);
  EXPECT_EQ(t.dtype.lanes, 1);
  ASSERT_NE(t.shape, nullptr);
  EXPECT_EQ(t.shape[0], 5);
  EXPECT_EQ(t.shape[1], 7);
  EXPECT_EQ(t.shape[2], 4);
  ASSERT_NE(t.strides, nullptr);
  EXPECT_EQ(t.strides[0], 28);
  EXPECT_EQ(t.strides[1], 4);
  EXPECT_EQ(t.strides[2], 1);
  EXPECT_EQ(t.byte_offset, 0u);
  EXPECT_NE(managed->manager_ctx, nullptr);
  ASSERT_NE(managed->deleter, nullptr);
  // The exported memory still holds the pixels, readable by a consumer on another stream.
  std::vector<std::byte> back(sent.size());
  check_cuda(cudaMemcpy(back.data(), t.data, back.size(), cudaMemcpyDeviceToHost), "cudaMemcpy");
  EXPECT_EQ(back, sent);
  managed->deleter(managed);
}

TEST_F(CudaDeviceImage, DlpackDeleterFreesTheMemoryEvenAfterTheStreamIsGone) {
  constexpr std::size_t bytes = std::size_t{256} << 20;
  check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const std::size_t before = pool_used_bytes();
  DLManagedTensor* managed = nullptr;
  {
    Stream stream;
    DeviceImage image(bytes / 4096, 4096, 1, DType::uint8, stream);
    managed = std::move(image).to_dlpack();
  }  // the allocating stream is destroyed before the consumer lets go
  EXPECT_GE(pool_used_bytes(), before + bytes);
  managed->deleter(managed);
  check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  EXPECT_EQ(pool_used_bytes(), before);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

}  // namespace
}  // namespace tilestream::cuda
