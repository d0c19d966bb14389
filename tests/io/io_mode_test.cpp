// io mode names: every mode round-trips through its name; anything else is a usage error listing them.
#include "tilestream/io/io_mode.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tilestream/core/error.hpp"

namespace tilestream::io {
namespace {

TEST(IoMode, NamesRoundTrip) {
  for (const IoMode mode : {IoMode::automatic, IoMode::posix, IoMode::direct, IoMode::gds}) {
    EXPECT_EQ(parse_io_mode(to_string(mode)), mode);
  }
  EXPECT_STREQ(to_string(IoMode::automatic), "auto");
}

TEST(IoMode, UnknownNamesAreUsageErrors) {
  for (const char* bad : {"", "POSIX", "cufile", "gds ", "o_direct"}) {
    try {
      (void)parse_io_mode(bad);
      ADD_FAILURE() << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("auto, posix, direct or gds"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace tilestream::io
