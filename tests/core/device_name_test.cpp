// Device names as every front end spells them: cpu, cuda, cuda:N; anything else is a UsageError that
// names the option (the CLI spells it --device, Python device).
#include "tilestream/core/device_name.hpp"

#include <gtest/gtest.h>

#include "tilestream/core/error.hpp"

namespace tilestream {
namespace {

TEST(DeviceName, CpuCudaAndNumberedCuda) {
  EXPECT_EQ(parse_device_name("cpu"), -1);
  EXPECT_EQ(parse_device_name("cuda"), 0);
  EXPECT_EQ(parse_device_name("cuda:0"), 0);
  EXPECT_EQ(parse_device_name("cuda:7"), 7);
  EXPECT_EQ(parse_device_name("cuda:1234"), 1234);
}

TEST(DeviceName, AnythingElseNamesTheOption) {
  for (const char* bad : {"gpu", "CUDA", "cuda:", "cuda:x", "cuda:-1", "cuda:+1", "cuda:12345", "cuda:1 ", ""}) {
    try {
      parse_device_name(bad);
      ADD_FAILURE() << "took '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("device wants cpu, cuda or cuda:N, got '"), std::string::npos) << e.what();
      EXPECT_NE(e.marked_message(), e.what()) << "the option is not marked";
    }
  }
}

}  // namespace
}  // namespace tilestream
