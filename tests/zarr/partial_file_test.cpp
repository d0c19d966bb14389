// PartialFile: positional writes from several threads land where asked; an uncommitted file is
// removed; a file that exists already or a failing write is an IoError naming the path.
#include "tilestream/zarr/partial_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::zarr {
namespace {

using tilestream::testing::temp_path;

std::vector<char> contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(PartialFile, PositionalWritesFromThreadsThenCommit) {
  const std::string path = temp_path("block.partial");
  {
    PartialFile file(path);
    std::vector<std::jthread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&file, t] {
        const std::vector<std::byte> bytes(1000, std::byte(t + 1));
        file.write_at(static_cast<std::uint64_t>(3 - t) * 1000, bytes);
      });
    }
    writers.clear();
    file.close();
    file.committed();  // (a store would have renamed it; here it stays where it is)
  }
  const std::vector<char> got = contents(path);
  ASSERT_EQ(got.size(), 4000u);
  for (int t = 0; t < 4; ++t) EXPECT_EQ(got[static_cast<std::size_t>(3 - t) * 1000 + 999], t + 1);
  std::filesystem::remove(path);
}

TEST(PartialFile, RemovedUnlessCommitted) {
  const std::string path = temp_path("block.partial");
  {
    PartialFile file(path);
    file.write_at(10, std::vector<std::byte>(5, std::byte{7}));
    EXPECT_EQ(std::filesystem::file_size(path), 15u);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(PartialFile, ErrorsNameThePath) {
  const std::string path = temp_path("block.partial");
  PartialFile first(path);
  try {
    PartialFile again(path);
    ADD_FAILURE() << "opened an existing file";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create " + path), std::string::npos) << e.what();
  }
  first.write_at(0, std::vector<std::byte>(4, std::byte{1}));
  first.sync();  // an open file syncs
  first.close();
  try {
    first.sync();
    ADD_FAILURE() << "synced a closed file";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot fsync " + path), std::string::npos) << e.what();
  }
  try {
    first.write_at(0, std::vector<std::byte>(3));
    ADD_FAILURE() << "wrote to a closed file";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write 3 bytes at offset 0 of " + path), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tilestream::zarr
