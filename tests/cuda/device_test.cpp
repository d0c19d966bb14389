// Device queries, the CUDA check helper's messages, streams and events.
#include <gtest/gtest.h>

#include <string>

#include "support/cuda_test_support.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::cuda {
namespace {

// These two run everywhere: they are what a machine without a GPU exercises.
TEST(CudaDeviceCount, ZeroDevicesComeWithAReasonInsteadOfAnError) {
  const int count = device_count();
  EXPECT_GE(count, 0);
  EXPECT_EQ(no_device_reason().empty(), count > 0) << no_device_reason();
}

TEST(CudaCheck, MessageNamesCallErrorAndPlace) {
  try {
    check_cuda(cudaErrorInvalidValue, "cudaFrobnicate");
    FAIL() << "no error";
  } catch (const CudaError& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::cuda);
    EXPECT_EQ(message.rfind("cudaFrobnicate failed: cudaErrorInvalidValue: invalid argument (", 0), 0u)
        << message;
    EXPECT_NE(message.find("device_test.cpp:"), std::string::npos) << message;
  }
  EXPECT_NO_THROW(check_cuda(cudaSuccess, "cudaNothing"));
}

using CudaDevice = testing::CudaTest;

TEST_F(CudaDevice, DescribesDeviceZero) {
  const DeviceInfo info = describe_device(0);
  EXPECT_EQ(info.id, 0);
  EXPECT_FALSE(info.name.empty());
  EXPECT_GT(info.total_memory, std::size_t{1} << 30);
  EXPECT_GT(info.free_memory, 0u);
  EXPECT_LE(info.free_memory, info.total_memory);
  EXPECT_GE(info.compute_major, 5);
  EXPECT_GT(info.multiprocessors, 0);
}

TEST_F(CudaDevice, IdsOutsideTheRangeAreUsageErrors) {
  EXPECT_THROW(describe_device(-1), UsageError);
  EXPECT_THROW(describe_device(device_count()), UsageError);
  EXPECT_THROW(set_device(device_count()), UsageError);
  set_device(0);
  EXPECT_EQ(current_device(), 0);
}

TEST_F(CudaDevice, DeviceGuardRestoresTheCurrentDevice) {
  const int last = device_count() - 1;
  {
    DeviceGuard guard(last);
    EXPECT_EQ(current_device(), last);
  }
  EXPECT_EQ(current_device(), 0);
}

TEST_F(CudaDevice, StreamsAndEventsOrderAndTimeWork) {
  Stream stream;
  EXPECT_NE(stream.get(), nullptr);
  EXPECT_EQ(stream.device(), 0);
  Event start(true);
  Event end(true);
  start.record(stream);
  end.record(stream);
  end.synchronize();
  EXPECT_TRUE(end.ready());
  EXPECT_GE(end.elapsed_ms_since(start), 0.0f);

  Stream other;
  other.wait(end);
  other.synchronize();
  Stream moved = std::move(other);
  EXPECT_EQ(other.get(),
            nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is part of the contract
  moved.synchronize();
}

}  // namespace
}  // namespace tilestream::cuda
