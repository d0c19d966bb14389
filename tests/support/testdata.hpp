// Locating the shared real slides (../shared/testdata) from tests; tests skip when absent.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tilestream::testing {

// The folder of the shared slides: TILESTREAM_TESTDATA when set (a copy carried to another machine),
// else ../shared/testdata beside the checkout.
inline std::string testdata_dir() {
  const char* value = std::getenv("TILESTREAM_TESTDATA");
  return value != nullptr && *value != '\0' ? std::string(value) : std::string(TILESTREAM_TESTDATA_DIR);
}

// Path of a file under the shared slides' folder, or "" when it is not there.
inline std::string testdata_file(const std::string& relative) {
  const std::filesystem::path path = std::filesystem::path(testdata_dir()) / relative;
  return std::filesystem::exists(path) ? path.string() : std::string();
}

}  // namespace tilestream::testing

// Skips the current test when a shared test slide is missing.
#define TILESTREAM_REQUIRE_TESTDATA(var, relative)                                        \
  const std::string var = ::tilestream::testing::testdata_file(relative);                 \
  if (var.empty()) GTEST_SKIP() << "shared test slide " << (relative) << " not found under " \
                                << ::tilestream::testing::testdata_dir()
