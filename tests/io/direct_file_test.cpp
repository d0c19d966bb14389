// O_DIRECT reads: aligned covers as data, covering reads of a real file compared byte for byte (the
// tail at the end of the file included, from several threads), and buffer and range errors.
#include "tilestream/io/direct_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/io/file.hpp"

namespace tilestream::io {
namespace {

struct CoverCase {
  std::string name;
  std::uint64_t offset;
  std::size_t length;
  std::size_t alignment;
  AlignedSpan expected;
};

void PrintTo(const CoverCase& c, std::ostream* out) {
  *out << c.name << ": " << c.length << " bytes at " << c.offset << ", alignment " << c.alignment;
}

constexpr std::uint64_t tib = std::uint64_t{1} << 40;

const std::vector<CoverCase> cover_cases = {
    {"zero_length_at_zero", 0, 0, 4096, {0, 0}},
    {"zero_length_unaligned", 5000, 0, 4096, {4096, 0}},
    {"already_aligned", 8192, 4096, 4096, {8192, 4096}},
    {"aligned_start_unaligned_end", 8192, 1, 4096, {8192, 4096}},
    {"unaligned_start_aligned_end", 100, 3996, 4096, {0, 4096}},
    {"unaligned_both_ends", 100, 10, 4096, {0, 4096}},
    {"straddles_a_boundary", 4000, 200, 4096, {0, 8192}},
    {"several_blocks", 4097, 3 * 4096, 4096, {4096, 4 * 4096}},
    {"alignment_512", 513, 511, 512, {512, 512}},
    {"alignment_512_straddle", 1000, 100, 512, {512, 1024}},
    {"alignment_1_is_identity", 12345, 678, 1, {12345, 678}},
    {"near_2_40_straddle", tib - 1, 2, 4096, {tib - 4096, 8192}},
    {"near_2_40_aligned", tib + 3 * 4096, 4096, 4096, {tib + 3 * 4096, 4096}},
    {"near_2_40_unaligned", tib + 5, 4096, 4096, {tib, 8192}},
};

class Cover : public ::testing::TestWithParam<CoverCase> {};

TEST_P(Cover, IsTheSmallestAlignedRangeAround) {
  const CoverCase& c = GetParam();
  const AlignedSpan cover = aligned_cover(c.offset, c.length, c.alignment);
  EXPECT_EQ(cover.offset, c.expected.offset);
  EXPECT_EQ(cover.length, c.expected.length);
}

INSTANTIATE_TEST_SUITE_P(Cases, Cover, ::testing::ValuesIn(cover_cases),
                         [](const auto& test) { return test.param.name; });

TEST(CoverErrors, AlignmentMustBeAPowerOfTwoAndTheRangeFit64Bits) {
  EXPECT_THROW(aligned_cover(0, 10, 0), UsageError);
  EXPECT_THROW(aligned_cover(0, 10, 3), UsageError);
  EXPECT_THROW(aligned_cover(0, 10, 4097), UsageError);
  EXPECT_THROW(aligned_cover(~std::uint64_t{0} - 5, 10, 4096), UsageError);
  EXPECT_THROW(aligned_cover(~std::uint64_t{0} - 5, 2, 4096), UsageError);  // rounding up overflows
}

// A buffer of `size` bytes starting at a multiple of `alignment`.
class AlignedBuffer {
 public:
  AlignedBuffer(std::size_t size, std::size_t alignment) : storage_(size + alignment) {
    const auto address = reinterpret_cast<std::uintptr_t>(storage_.data());
    const std::size_t skip = (alignment - address % alignment) % alignment;
    bytes_ = std::span<std::byte>(storage_).subspan(skip, size);
  }
  std::span<std::byte> bytes() const { return bytes_; }

 private:
  std::vector<std::byte> storage_;
  std::span<std::byte> bytes_;
};

// A file of pseudo-random bytes in the first folder whose file system takes O_DIRECT: the test temp
// folder, else the current directory (ctest runs tests in the build folder). Removed with the object.
struct DirectTestFile {
  std::vector<std::byte> bytes;
  std::string path;
  std::optional<DirectReadFile> file;
  std::string refused;  // why neither folder took O_DIRECT, when `file` is empty

  DirectTestFile(const std::string& name, std::size_t size) : bytes(size) {
    std::mt19937 rng(11);
    for (auto& b : bytes) b = static_cast<std::byte>(rng() & 0xff);
    const std::string stem = std::filesystem::path(testing::temp_path(name)).filename().string();
    for (const std::string& candidate :
         {testing::temp_path(name), (std::filesystem::current_path() / stem).string()}) {
      WriteFile out(candidate);
      out.append(bytes);
      out.commit();
      try {
        file.emplace(candidate);
        path = candidate;
        return;
      } catch (const UnsupportedError& e) {
        std::filesystem::remove(candidate);
        refused += std::string(e.what()) + "; ";
      }
    }
  }
  ~DirectTestFile() {
    file.reset();
    if (!path.empty()) std::filesystem::remove(path);
  }
};

#define OPEN_DIRECT_OR_SKIP(var, name, size)                                                          \
  DirectTestFile var(name, size);                                                                     \
  if (!var.file) GTEST_SKIP() << "neither the temp folder nor the current one takes O_DIRECT: " \
                              << var.refused

constexpr std::size_t file_size = 3 * 4096 + 123;

TEST(DirectRead, ReportsSizeNameAndAPowerOfTwoAlignment) {
  OPEN_DIRECT_OR_SKIP(t, "meta.bin", file_size);
  EXPECT_EQ(t.file->size(), file_size);
  EXPECT_EQ(t.file->name(), t.path);
  EXPECT_TRUE(std::has_single_bit(t.file->alignment())) << t.file->alignment();
  EXPECT_GE(t.file->alignment(), 1u);
}

TEST(DirectRead, CoveringReadsMatchTheFile) {
  OPEN_DIRECT_OR_SKIP(t, "ranges.bin", file_size);
  const DirectReadFile& file = *t.file;
  const std::size_t a = file.alignment();
  std::vector<std::pair<std::uint64_t, std::size_t>> spans = {
      {0, 1},          {0, file_size},  {1, 4095},     {4095, 2},     {4096, 4096},   {4096, 1},
      {8191, 1},       {100, 12000},    {12288, 123},  {12288, 1},    {file_size - 1, 1},
      {file_size - 123, 123},           {100, file_size - 100},       {file_size - 5000, 5000},
      {0, 0},          {file_size, 0},  {777, 0},
  };
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    const std::uint64_t offset = rng() % file_size;
    spans.emplace_back(offset, rng() % (file_size - offset + 1));
  }
  const AlignedBuffer buffer(file_size + 2 * a, a);
  for (const auto& [offset, length] : spans) {
    SCOPED_TRACE(::testing::Message() << length << " bytes at offset " << offset);
    const std::span<const std::byte> got = file.read_covering(offset, length, buffer.bytes());
    ASSERT_EQ(got.size(), length);
    if (length > 0) {
      const AlignedSpan cover = aligned_cover(offset, length, a);
      EXPECT_EQ(got.data(), buffer.bytes().data() + (offset - cover.offset));
    }
    const auto expected = t.bytes.begin() + static_cast<std::ptrdiff_t>(offset);
    ASSERT_TRUE(std::equal(got.begin(), got.end(), expected));
  }
}

TEST(DirectRead, ThreadsShareOneFile) {
  OPEN_DIRECT_OR_SKIP(t, "threads.bin", 64 * 4096 + 7);
  const DirectReadFile& file = *t.file;
  std::vector<int> mismatches(4, -1);
  std::vector<std::thread> threads;
  for (unsigned thread = 0; thread < 4; ++thread) {
    threads.emplace_back([&, thread] {
      std::mt19937 rng(thread);
      const AlignedBuffer buffer(t.bytes.size() + 2 * file.alignment(), file.alignment());
      int bad = 0;
      for (int i = 0; i < 200; ++i) {
        const std::uint64_t offset = rng() % t.bytes.size();
        const std::size_t length = std::min<std::size_t>(rng() % 50000, t.bytes.size() - offset);
        const auto got = file.read_covering(offset, length, buffer.bytes());
        const auto expected = t.bytes.begin() + static_cast<std::ptrdiff_t>(offset);
        if (got.size() != length || !std::equal(got.begin(), got.end(), expected)) ++bad;
      }
      mismatches[thread] = bad;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(DirectRead, MisalignedOrSmallBuffersAreUsageErrors) {
  OPEN_DIRECT_OR_SKIP(t, "buffers.bin", file_size);
  const DirectReadFile& file = *t.file;
  const std::size_t a = file.alignment();
  const AlignedBuffer buffer(4 * a, a);
  if (a > 1) {
    EXPECT_THROW(file.read_covering(0, 10, buffer.bytes().subspan(1)), UsageError);
  }
  // 2 bytes across an alignment boundary need two blocks.
  EXPECT_THROW(file.read_covering(a - 1, 2, buffer.bytes().first(a)), UsageError);
  EXPECT_THROW(file.read_covering(0, 1, buffer.bytes().first(a - 1)), UsageError);
  try {
    file.read_covering(a - 1, 2, buffer.bytes().first(a));
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(t.path), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(2 * a)), std::string::npos) << message;
  }
  // The same requests succeed with the buffer they need.
  EXPECT_EQ(file.read_covering(a - 1, 2, buffer.bytes().first(2 * a)).size(), 2u);
}

TEST(DirectRead, RangesPastTheEndAreIoErrorsNamingFileAndOffset) {
  OPEN_DIRECT_OR_SKIP(t, "past_end.bin", file_size);
  const DirectReadFile& file = *t.file;
  const AlignedBuffer buffer(file_size + 2 * file.alignment(), file.alignment());
  const std::vector<std::pair<std::uint64_t, std::size_t>> past_end = {
      {file_size - 10, 11}, {file_size, 1}, {file_size + 1, 0}, {tib, 4096}, {0, file_size + 1}};
  for (const auto& [offset, length] : past_end) {
    SCOPED_TRACE(::testing::Message() << length << " bytes at offset " << offset);
    try {
      file.read_covering(offset, length, buffer.bytes());
      ADD_FAILURE() << "no error";
    } catch (const IoError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(t.path), std::string::npos) << message;
      EXPECT_NE(message.find("at offset " + std::to_string(offset)), std::string::npos) << message;
      EXPECT_NE(message.find("past the end of the file (" + std::to_string(file_size) + " bytes)"),
                std::string::npos)
          << message;
    }
  }
}

// A file truncated by someone else after it was opened: the read says that it shrank, from and to
// how many bytes, and names the file and the offset (the in-process twin of tests/python/test_faults.py).
TEST(DirectRead, FileTruncatedWhileOpenSaysItShrank) {
  OPEN_DIRECT_OR_SKIP(t, "shrinks.bin", file_size);
  const DirectReadFile& file = *t.file;
  const AlignedBuffer buffer(file_size + 2 * file.alignment(), file.alignment());
  const std::uint64_t cut = 2 * file.alignment() + 10;
  std::filesystem::resize_file(t.path, cut);
  for (const std::uint64_t offset : {cut + 5, cut - 5, std::uint64_t{2 * file.alignment()}}) {
    SCOPED_TRACE(::testing::Message() << "100 bytes at offset " << offset);
    try {
      file.read_covering(offset, 100, buffer.bytes());
      ADD_FAILURE() << "no error";
    } catch (const IoError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(t.path), std::string::npos) << message;
      EXPECT_NE(message.find("at offset " + std::to_string(offset)), std::string::npos) << message;
      EXPECT_NE(message.find("shrank from " + std::to_string(file_size) + " to " + std::to_string(cut)),
                std::string::npos)
          << message;
    }
  }
  // Bytes before the cut still read right.
  const auto bytes = file.read_covering(1, 100, buffer.bytes());
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), t.bytes.begin() + 1));
}

TEST(DirectRead, MissingFileIsAnIoErrorNamingIt) {
  const std::string path = testing::temp_path("does_not_exist.bin");
  try {
    DirectReadFile file(path);
    FAIL() << "opened a missing file";
  } catch (const IoError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("No such file"), std::string::npos) << message;
  }
}

TEST(DirectRead, MovedFileKeepsReading) {
  OPEN_DIRECT_OR_SKIP(t, "moved.bin", file_size);
  DirectReadFile moved = std::move(*t.file);
  t.file.reset();
  EXPECT_EQ(moved.size(), file_size);
  const AlignedBuffer buffer(2 * moved.alignment(), moved.alignment());
  const auto got = moved.read_covering(file_size - 3, 3, buffer.bytes());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), t.bytes.end() - 3));
}

}  // namespace
}  // namespace tilestream::io
