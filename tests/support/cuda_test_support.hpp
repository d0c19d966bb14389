// The fixture every GPU test derives from: skips with "no CUDA device (<reason>)" where there is none,
// so the GPU test binary passes (as skipped) on machines without a GPU.
#pragma once

#include <gtest/gtest.h>

#include "tilestream/cuda/device.hpp"

namespace tilestream::testing {

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device (" << cuda::no_device_reason() << ")";
    cuda::set_device(0);
  }
};

template <class Param>
class CudaTestWithParam : public CudaTest, public ::testing::WithParamInterface<Param> {};

}  // namespace tilestream::testing
