// Temporary file names unique to the running test and process: ctest runs the cases of one
// binary in parallel processes, and parameterised names contain '/'.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace tilestream::testing {

inline std::string temp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string stem = std::string(info->test_suite_name()) + "_" + info->name() + "_" +
                     std::to_string(::getpid()) + "_" + name;
  std::replace(stem.begin(), stem.end(), '/', '_');
  return (std::filesystem::path(::testing::TempDir()) / stem).string();
}

}  // namespace tilestream::testing
