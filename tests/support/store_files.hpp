// Helpers of the tests that compare whole Zarr stores: a file name on a real disk (O_DIRECT and
// cuFile need one; the test temp folder may be tmpfs) and every file of a store with its bytes.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "support/temp_path.hpp"

namespace tilestream::testing {

// A name unique to the running test, in the current folder (the build folder under ctest).
inline std::string disk_path(const std::string& name) {
  return (std::filesystem::current_path() / std::filesystem::path(temp_path(name)).filename()).string();
}

// Every regular file under `root` by relative path, with its bytes.
inline std::map<std::string, std::string> files_of(const std::string& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    files[std::filesystem::relative(entry.path(), root).string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return files;
}

}  // namespace tilestream::testing
