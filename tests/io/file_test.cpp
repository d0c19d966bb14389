// ReadFile and WriteFile against real failures of the file system: a file truncated by someone else
// while open, and a write past RLIMIT_FSIZE (EFBIG) that must leave no file under the target's name.
#include "tilestream/io/file.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>
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

}  // namespace
}  // namespace tilestream::io
