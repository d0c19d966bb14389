// Locating the shared real slides (../shared/testdata) from tests; tests skip when absent.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace tilestream::testing {

// Path of a file under ../shared/testdata, or "" when the folder is not there.
inline std::string testdata_file(const std::string& relative) {
  const std::filesystem::path path = std::filesystem::path(TILESTREAM_TESTDATA_DIR) / relative;
  return std::filesystem::exists(path) ? path.string() : std::string();
}

}  // namespace tilestream::testing

// Skips the current test when a shared test slide is missing.
#define TILESTREAM_REQUIRE_TESTDATA(var, relative)                                        \
  const std::string var = ::tilestream::testing::testdata_file(relative);                 \
  if (var.empty()) GTEST_SKIP() << "shared test slide " << (relative) << " not found under " \
                                << TILESTREAM_TESTDATA_DIR
