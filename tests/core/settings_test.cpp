// parse_byte_size: the sizes --memory and TILESTREAM_MEMORY accept, and the ones they refuse.
#include <gtest/gtest.h>

#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"

namespace tilestream {
namespace {

TEST(ParseByteSize, DigitsWithBinarySuffixes) {
  EXPECT_EQ(parse_byte_size("1048576", "--memory"), 1048576u);
  EXPECT_EQ(parse_byte_size("512M", "--memory"), 512ull << 20);
  EXPECT_EQ(parse_byte_size("2G", "--memory"), 2ull << 30);
  EXPECT_EQ(parse_byte_size("2g", "--memory"), 2ull << 30);
  EXPECT_EQ(parse_byte_size("64KiB", "--memory"), 64ull << 10);
  EXPECT_EQ(parse_byte_size("3MB", "--memory"), 3ull << 20);
  EXPECT_EQ(parse_byte_size("1T", "--memory"), 1ull << 40);
  EXPECT_EQ(parse_byte_size("100B", "--memory"), 100u);
}

TEST(ParseByteSize, RefusesOtherText) {
  for (const char* text :
       {"", "0", "0M", "M", "1.5G", "-1", "12Q", "2 G", "1P", "2000T", "99999999999999999999"}) {
    try {
      (void)parse_byte_size(text, "--memory");
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--memory must be a byte count like 1048576, 512M or 2G"),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace tilestream
