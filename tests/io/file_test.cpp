// ReadFile and WriteFile against real failures of the file system: a file truncated by someone else
// while open, and a write past RLIMIT_FSIZE (EFBIG) that must leave no file under the target's name.
// WriteFile is the one temporary-file type: positional writes from several threads, nothing under the
// target's name before commit(), and its partial file removed when it is not committed.
#include "tilestream/io/file.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::io {
namespace {

void write_file(const std::string& path, std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>(i * 7);
  WriteFile out(path);
  out.append(bytes);
  out.commit();
}

TEST(ReadFile, TruncatedWhileOpenSaysItShrank) {
  const std::string path = testing::temp_path("shrinks.bin");
  write_file(path, 10000);
  const ReadFile file(path);
  std::filesystem::resize_file(path, 4000);
  struct Case {
    std::uint64_t offset;
    std::size_t length;
  };
  // Wholly past the new end, and straddling it.
  for (const Case c : {Case{5000, 100}, Case{3990, 100}}) {
    SCOPED_TRACE(::testing::Message() << c.length << " bytes at offset " << c.offset);
    std::vector<std::byte> dst(c.length);
    try {
      file.read_exact(c.offset, dst);
      ADD_FAILURE() << "no error";
    } catch (const IoError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      EXPECT_NE(message.find("at offset " + std::to_string(c.offset)), std::string::npos) << message;
      EXPECT_NE(message.find("shrank from 10000 to 4000 bytes"), std::string::npos) << message;
    }
  }
  std::vector<std::byte> head(100);
  file.read_exact(0, head);
  EXPECT_EQ(head[99], static_cast<std::byte>(99 * 7));
  std::filesystem::remove(path);
}

// In a child process, so that the limit and SIGXFSZ's disposition stay there.
TEST(WriteFile, FailedWriteLeavesNoFile) {
  const std::string path = testing::temp_path("too_big.bin");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      write_file(path, 10000);
      ::_exit(3);  // no error
    } catch (const IoError& e) {
      const std::string message = e.what();
      const bool named = message.find(path) != std::string::npos && message.find("at offset 4096") != std::string::npos &&
                         message.find("File too large") != std::string::npos;
      ::_exit(named ? 0 : 4);
    }
    ::_exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: no error, 4: the message lacks the file, offset or cause";
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

std::vector<char> contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(WriteFile, PositionalWritesFromThreadsThenCommit) {
  const std::string path = testing::temp_path("block.bin");
  std::filesystem::remove(path);
  {
    WriteFile file(path);
    EXPECT_TRUE(file.partial_path().starts_with(path + ".") && file.partial_path().ends_with(".partial"))
        << file.partial_path();
    EXPECT_EQ(file.partial_path().size(), path.size() + 1 + 16 + 8);  // StoreInventory's partial name
    std::vector<std::jthread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&file, t] {
        const std::vector<std::byte> bytes(1000, std::byte(t + 1));
        file.write_at(static_cast<std::uint64_t>(3 - t) * 1000, bytes);
      });
    }
    writers.clear();
    EXPECT_EQ(file.size(), 4000u);
    EXPECT_EQ(file.file_size(), 4000u);
    EXPECT_FALSE(std::filesystem::exists(path));  // nothing under the name before the commit
    file.commit({.fsync = false});
    EXPECT_FALSE(std::filesystem::exists(file.partial_path()));
  }
  const std::vector<char> got = contents(path);
  ASSERT_EQ(got.size(), 4000u);
  for (int t = 0; t < 4; ++t) EXPECT_EQ(got[static_cast<std::size_t>(3 - t) * 1000 + 999], t + 1);
  std::filesystem::remove(path);
}

TEST(WriteFile, RemovedUnlessCommittedAndTheOldFileKept) {
  const std::string path = testing::temp_path("kept.bin");
  std::ofstream(path) << "old";
  std::string partial;
  {
    WriteFile file(path);
    partial = file.partial_path();
    file.write_at(10, std::vector<std::byte>(5, std::byte{7}));
    EXPECT_EQ(std::filesystem::file_size(partial), 15u);
  }
  EXPECT_FALSE(std::filesystem::exists(partial));
  EXPECT_EQ(contents(path), (std::vector<char>{'o', 'l', 'd'}));
  std::filesystem::remove(path);
}

// What the rename would replace must be a regular file: a symbolic link or a device (the test may not
// make one: /dev/null stands for them) is refused before anything is written.
TEST(WriteFile, RefusesToReplaceWhatIsNotARegularFile) {
  const std::string target = testing::temp_path("link_target.bin");
  std::ofstream(target) << "kept";
  const std::string link = testing::temp_path("link.bin");
  std::filesystem::create_symlink(target, link);
  for (const auto& [path, kind] :
       {std::pair<std::string, std::string>{link, "a symbolic link"}, {"/dev/null", "a device"}}) {
    try {
      WriteFile file(path);
      ADD_FAILURE() << path << " was opened for replacing";
    } catch (const UsageError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path + " exists and is not a regular file (" + kind + ")"), std::string::npos) << what;
    }
    EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  }
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(contents(target), (std::vector<char>{'k', 'e', 'p', 't'}));
  std::filesystem::remove(link);
  std::filesystem::remove(target);
}

TEST(WriteFile, ErrorsNameThePartialFileAndTheOffset) {
  const std::string folder = testing::temp_path("write_file_errors");
  std::filesystem::remove_all(folder);
  try {
    WriteFile missing(folder + "/x.bin");  // its folder does not exist
    ADD_FAILURE() << "created a file in a missing folder";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create " + folder + "/x.bin."), std::string::npos) << e.what();
  }
  std::filesystem::create_directories(folder + "/target.bin");  // a folder where the file must go
  {
    WriteFile file(folder + "/target.bin");
    file.append(std::vector<std::byte>(4, std::byte{1}));
    const std::string partial = file.partial_path();
    try {
      file.commit();
      ADD_FAILURE() << "renamed a file onto a folder";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot rename " + partial + " to " + folder + "/target.bin"),
                std::string::npos)
          << e.what();
    }
    try {
      file.write_at(0, std::vector<std::byte>(3));
      ADD_FAILURE() << "wrote to a closed file";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot write " + partial), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(std::filesystem::is_empty(folder + "/target.bin"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(folder), std::filesystem::directory_iterator()), 1);
  std::filesystem::remove_all(folder);
}

// Several files as one source: file k at k * 2^40; reads, files() and locate() map offsets back to
// the file; a read past a file's end names that file, one past the last file the series; find_part
// refuses a read between two files or across a file's end.
TEST(FileSeries, OffsetsMapToTheirFiles) {
  const std::string a = testing::temp_path("a.bin");
  const std::string b = testing::temp_path("b.bin");
  write_file(a, 100);
  write_file(b, 50);
  const FileSeries series("the-series", {a, b});
  EXPECT_EQ(series.count(), 2u);
  EXPECT_EQ(series.name(), "the-series");
  EXPECT_EQ(FileSeries::base_of(1), std::uint64_t{1} << 40);
  EXPECT_EQ(series.size(), FileSeries::base_of(1) + 50);
  std::vector<std::byte> got(5);
  series.read_exact(FileSeries::base_of(1) + 10, got);
  EXPECT_EQ(got[0], static_cast<std::byte>(10 * 7));
  series.read_exact(95, got);
  EXPECT_EQ(got[4], static_cast<std::byte>(99 * 7));
  const std::vector<FilePart> parts = series.files();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].path, b);
  EXPECT_EQ(parts[1].base, FileSeries::base_of(1));
  EXPECT_EQ(parts[1].size, 50u);
  EXPECT_EQ(series.locate(FileSeries::base_of(1) + 10), "offset 10 of " + b);
  EXPECT_EQ(series.locate(20), "offset 20 of " + a);
  EXPECT_EQ(series.locate(FileSeries::base_of(2) + 1), "offset " + std::to_string(FileSeries::base_of(2) + 1));
  EXPECT_EQ(MemorySource(got).locate(3), "offset 3");

  struct Bad {
    std::uint64_t offset;
    std::string says;
  };
  for (const Bad& bad : {Bad{98, a + ": read of 5 bytes at offset 98"},                       // past a's end
                         Bad{FileSeries::base_of(1) + 48, b + ": read of 5 bytes at offset 48"},  // past b's end
                         Bad{FileSeries::base_of(3), "the-series: read of 5 bytes at offset " +
                                                         std::to_string(FileSeries::base_of(3)) +
                                                         " lies past the series' last file"}}) {
    SCOPED_TRACE(bad.offset);
    try {
      series.read_exact(bad.offset, got);
      ADD_FAILURE() << "no error";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(bad.says), std::string::npos) << e.what();
    }
  }

  const PartOffset inside = find_part(parts, "the-series", FileSeries::base_of(1) + 45, 5);
  EXPECT_EQ(inside.part, 1u);
  EXPECT_EQ(inside.offset, 45u);
  EXPECT_EQ(find_part(parts, "the-series", 100, 0).offset, 100u);  // an empty read at a file's end
  for (const Bad& bad : {Bad{90, a + ": read of 20 bytes at offset 90 goes past the end of the file (100 bytes)"},
                         Bad{200, "the-series: no file holds 20 bytes at offset 200"},
                         Bad{FileSeries::base_of(2), "the-series: no file holds 20 bytes at offset " +
                                                         std::to_string(FileSeries::base_of(2))}}) {
    SCOPED_TRACE(bad.offset);
    try {
      find_part(parts, "the-series", bad.offset, 20);
      ADD_FAILURE() << "no error";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(bad.says), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove(a);
  std::filesystem::remove(b);
}

TEST(FileSeries, NeedsAFileAndNamesTheOneThatFails) {
  EXPECT_THROW(FileSeries("empty", {}), UsageError);
  const std::string missing = testing::temp_path("missing.bin");
  try {
    FileSeries("the-series", {missing});
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tilestream::io
