// cuFile through dlopen. Without a GPU: loading a missing library or one without cuFile's entry points,
// TILESTREAM_CUFILE_LIBRARY, and available() explaining itself. With a GPU and cuFile: ranges of a file
// read into device memory (unaligned offsets, buffer offsets, the end of the file, several threads,
// a registered buffer) and device memory written to a file, all compared byte for byte.
#include "tilestream/io/cufile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/cuda_test_support.hpp"
#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/io/file.hpp"

namespace tilestream::io::gds {
namespace {

using cuda::DeviceBuffer;
using cuda::Stream;

// A library name dlopen cannot find anywhere.
constexpr const char* missing_library = "libtilestream-no-such-cufile.so.0";

std::string unsupported_message(const std::string& file) {
  try {
    Library library(file);
  } catch (const UnsupportedError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(CuFileLibrary, MissingLibraryIsUnsupportedAndNamed) {
  const std::string message = unsupported_message(missing_library);
  ASSERT_FALSE(message.empty()) << "loaded " << missing_library;
  EXPECT_TRUE(contains(message, missing_library)) << message;
}

TEST(CuFileLibrary, LibraryWithoutCuFileEntryPointsIsUnsupported) {
  // zlib is on every machine that builds tilestream, and has no cuFile symbol.
  const std::string message = unsupported_message("libz.so.1");
  ASSERT_FALSE(message.empty());
  EXPECT_TRUE(contains(message, "libz.so.1")) << message;
  EXPECT_TRUE(contains(message, "cuFileDriverOpen") || contains(message, "built without cufile.h")) << message;
}

// The driver is opened once per process, so the variable is tested in a fresh process: the
// "threadsafe" death-test style runs the test binary again for this test alone.
TEST(CuFileLibrary, EnvironmentVariableNamesTheLibrary) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::setenv("TILESTREAM_CUFILE_LIBRARY", missing_library, 1);
        std::string why;
        const bool ok = available(&why);
        std::cerr << why << std::endl;
        std::exit(ok ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), missing_library);
}

TEST(CuFileLibrary, AvailableAnswersWithoutThrowing) {
  std::string why;
  if (available(&why)) {
    const DriverInfo& info = driver();
    EXPECT_TRUE(info.loaded);
    EXPECT_FALSE(info.library.empty());
    EXPECT_EQ(info.mode.rfind(info.compat_mode ? "cuFile compatibility mode (" : "GPUDirect Storage", 0), 0u)
        << info.mode;
  } else {
    EXPECT_FALSE(why.empty());
    EXPECT_THROW(driver(), UnsupportedError);
    EXPECT_THROW(FileHandle("any.bin", FileHandle::Mode::read), UnsupportedError);
  }
}

std::vector<std::byte> pattern(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> bytes(size);
  for (auto& b : bytes) b = static_cast<std::byte>(rng() & 0xff);
  return bytes;
}

constexpr std::size_t file_size = (std::size_t{8} << 20) + 1234;

// GPU tests: skip where there is no device or cuFile cannot be opened, saying why.
class CuFile : public testing::CudaTest {
 protected:
  void SetUp() override {
    testing::CudaTest::SetUp();
    if (IsSkipped()) return;
    std::string why;
    if (!available(&why)) GTEST_SKIP() << "cuFile not available: " << why;
    std::cout << "cuFile: " << driver().mode << " (" << driver().library << ")" << std::endl;
    path_ = testing::temp_path("cufile.bin");
    bytes_ = pattern(file_size, 3);
    io::WriteFile out(path_);
    out.append(bytes_);
    out.commit();
    // cuFile refuses to register files where it cannot read the block device's udev data (containers
    // and VMs without udev), even in compat mode: a fact about the machine, like a missing device.
    try {
      const FileHandle probe(path_, FileHandle::Mode::read);
    } catch (const IoError& e) {
      GTEST_SKIP() << "cuFile cannot register files here: " << e.what();
    }
  }
  void TearDown() override {
    if (!path_.empty()) std::filesystem::remove(path_);
  }

  std::string path_;
  std::vector<std::byte> bytes_;
};

struct ReadCase {
  std::uint64_t offset;
  std::size_t length;
  std::size_t buffer_offset;
};

TEST_F(CuFile, ReadsRangesIntoDeviceMemory) {
  const FileHandle file(path_, FileHandle::Mode::read);
  EXPECT_EQ(file.path(), path_);
  EXPECT_GE(file.fd(), 0);
  Stream stream;
  DeviceBuffer buffer(file_size + 8192, stream);
  const std::vector<ReadCase> cases = {
      {0, file_size, 0},          {0, 4096, 0},          {1, 4095, 3},        {4095, 1, 0},
      {12345, 1 << 20, 777},      {file_size - 1000, 1000, 4096},             {1 << 22, (3 << 20) + 17, 1},
      {file_size - 1, 1, 5},      {4096, 1 << 20, 4096}, {100, file_size - 100, 8191},
  };
  for (const ReadCase& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.length << " bytes at " << c.offset << " to " << c.buffer_offset);
    buffer.fill(0xee, stream);
    stream.synchronize();
    ASSERT_EQ(file.read(buffer.data(), c.length, c.offset, c.buffer_offset), c.length);
    std::vector<std::byte> back(c.length + 1);
    copy_to_host(back, buffer, stream, c.buffer_offset);
    std::vector<std::byte> before(c.buffer_offset);
    copy_to_host(before, buffer, stream);
    stream.synchronize();
    const auto expected = bytes_.begin() + static_cast<std::ptrdiff_t>(c.offset);
    EXPECT_TRUE(std::equal(back.begin(), back.end() - 1, expected));
    EXPECT_EQ(back.back(), std::byte{0xee}) << "wrote past the requested length";
    EXPECT_EQ(before, std::vector<std::byte>(c.buffer_offset, std::byte{0xee})) << "wrote before buffer_offset";
  }
}

TEST_F(CuFile, ReadsAtTheEndOfTheFileAreShort) {
  const FileHandle file(path_, FileHandle::Mode::read);
  Stream stream;
  DeviceBuffer buffer(8192, stream);
  EXPECT_EQ(file.read(buffer.data(), 5000, file_size - 1000), 1000u);
  std::vector<std::byte> back(1000);
  copy_to_host(back, buffer, stream);
  stream.synchronize();
  EXPECT_TRUE(std::equal(back.begin(), back.end(), bytes_.end() - 1000));
  EXPECT_EQ(file.read(buffer.data(), 100, file_size), 0u);
  EXPECT_EQ(file.read(buffer.data(), 100, file_size + 4096), 0u);
  EXPECT_EQ(file.read(buffer.data(), 0, 0), 0u);
}

TEST_F(CuFile, ThreadsShareOneHandle) {
  const FileHandle file(path_, FileHandle::Mode::read);
  Stream stream;
  DeviceBuffer buffer(file_size, stream);
  buffer.fill(0, stream);
  stream.synchronize();
  constexpr std::size_t parts = 4;
  const std::size_t part = file_size / parts + 1;  // odd-sized parts: unaligned offsets
  std::vector<std::size_t> got(parts, 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < parts; ++i) {
    threads.emplace_back([&, i] {
      const std::size_t begin = i * part;
      const std::size_t length = std::min(part, file_size - begin);
      got[i] = file.read(buffer.data(), length, begin, begin);  // no cudaSetDevice on this thread
    });
  }
  for (auto& thread : threads) thread.join();
  std::size_t total = 0;
  for (const std::size_t n : got) total += n;
  EXPECT_EQ(total, file_size);
  std::vector<std::byte> back(file_size);
  copy_to_host(back, buffer, stream);
  stream.synchronize();
  EXPECT_TRUE(back == bytes_);
}

TEST_F(CuFile, RegisteredBufferReadsTheSame) {
  const FileHandle file(path_, FileHandle::Mode::read);
  Stream stream;
  DeviceBuffer buffer(1 << 20, stream);
  stream.synchronize();
  RegisteredBuffer registered(buffer.data(), buffer.size());
  EXPECT_EQ(registered.data(), buffer.data());
  EXPECT_EQ(registered.size(), buffer.size());
  const RegisteredBuffer moved = std::move(registered);
  EXPECT_EQ(registered.data(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.data(), buffer.data());
  ASSERT_EQ(file.read(moved.data(), 500000, 33333, 1000), 500000u);
  std::vector<std::byte> back(500000);
  copy_to_host(back, buffer, stream, 1000);
  stream.synchronize();
  EXPECT_TRUE(std::equal(back.begin(), back.end(), bytes_.begin() + 33333));
}

TEST_F(CuFile, WritesFromDeviceMemory) {
  const std::string out_path = testing::temp_path("cufile_written.bin");
  const std::vector<std::byte> sent = pattern(file_size, 9);
  Stream stream;
  DeviceBuffer buffer(file_size, stream);
  copy_to_device(buffer, sent, stream);
  stream.synchronize();
  {
    const FileHandle out(out_path, FileHandle::Mode::write);
    // Two unaligned pieces, the second first: positional writes.
    const std::size_t split = file_size / 2 + 3;
    out.write(buffer.data(), file_size - split, split, split);
    out.write(buffer.data(), split, 0, 0);
  }
  const io::ReadFile in(out_path);
  ASSERT_EQ(in.size(), file_size);
  std::vector<std::byte> back(file_size);
  in.read_exact(0, back);
  EXPECT_TRUE(back == sent);
  std::filesystem::remove(out_path);
}

TEST_F(CuFile, ErrorsNameTheFileOrThePointer) {
  const std::string missing = testing::temp_path("missing.bin");
  try {
    const FileHandle file(missing, FileHandle::Mode::read);
    FAIL() << "opened a missing file";
  } catch (const IoError& e) {
    EXPECT_TRUE(contains(e.what(), missing)) << e.what();
  }
  const FileHandle file(path_, FileHandle::Mode::read);
  std::vector<std::byte> host(100);
  EXPECT_THROW(file.read(host.data(), host.size(), 0), UsageError);
}

}  // namespace
}  // namespace tilestream::io::gds
