// The io mode table: every entry round-trips through its name, has help text and moves data one way
// at least; anything else is a usage error listing the names.
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

TEST(IoMode, TableEntriesAreWhole) {
  const std::string help = describe_io_modes();
  std::size_t host_modes = 0;
  for (const IoModeInfo& entry : io_modes()) {
    SCOPED_TRACE(std::string(entry.name));
    EXPECT_EQ(parse_io_mode(entry.name), entry.mode);
    EXPECT_EQ(std::string(to_string(entry.mode)), entry.name);
    EXPECT_EQ(&info(entry.mode), &entry);
    EXPECT_FALSE(entry.summary.empty());
    EXPECT_NE(help.find(concat(entry.name, " (", entry.summary, ")")), std::string::npos) << help;
    EXPECT_TRUE(entry.reads || entry.writes);
    host_modes += entry.host_too ? 1 : 0;
  }
  EXPECT_EQ(io_modes().size(), 4u);
  // posix is what a CPU run does, and auto falls back to it: asking for either without a device is fine.
  EXPECT_TRUE(info(IoMode::posix).host_too && info(IoMode::automatic).host_too);
  EXPECT_FALSE(info(IoMode::gds).host_too || info(IoMode::direct).host_too);
  EXPECT_EQ(host_modes, 2u);
  EXPECT_FALSE(info(IoMode::direct).writes);  // O_DIRECT is a read path: blocks go by pwrite from pinned bands
  EXPECT_TRUE(info(IoMode::posix).writes && info(IoMode::gds).writes && info(IoMode::automatic).writes);
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
