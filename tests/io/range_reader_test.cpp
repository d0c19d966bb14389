// The posix io backend: coalescing plans as data, random ranges of a temp file read byte-exact on 1
// and many threads, and reads past the end naming file, offset and length.
#include "tilestream/io/range_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::io {
namespace {

struct PlanCase {
  std::string name;
  std::vector<std::pair<std::uint64_t, std::size_t>> ranges;  // offset, length
  std::uint64_t max_gap;
  std::size_t max_request;
  // Expected requests: offset, length, range indices.
  std::vector<std::tuple<std::uint64_t, std::size_t, std::vector<std::size_t>>> expected;
};

const std::vector<PlanCase> plan_cases = {
    {"adjacent_join", {{0, 10}, {10, 10}, {20, 5}}, 0, 1000, {{0, 25, {0, 1, 2}}}},
    {"unsorted_input_sorted", {{20, 5}, {0, 10}, {10, 10}}, 0, 1000, {{0, 25, {1, 2, 0}}}},
    {"gap_within_threshold", {{0, 10}, {14, 6}}, 4, 1000, {{0, 20, {0, 1}}}},
    {"gap_beyond_threshold", {{0, 10}, {15, 5}}, 4, 1000, {{0, 10, {0}}, {15, 5, {1}}}},
    {"max_request_splits", {{0, 10}, {10, 10}, {20, 10}}, 0, 20, {{0, 20, {0, 1}}, {20, 10, {2}}}},
    {"long_range_alone", {{0, 50}, {50, 5}}, 0, 20, {{0, 50, {0}}, {50, 5, {1}}}},
    {"overlap_joins", {{0, 10}, {5, 10}}, 0, 1000, {{0, 15, {0, 1}}}},
    {"contained_range", {{0, 30}, {5, 10}, {40, 1}}, 10, 1000, {{0, 41, {0, 1, 2}}}},
    {"empty_ranges_dropped", {{0, 0}, {100, 4}, {7, 0}}, 0, 1000, {{100, 4, {1}}}},
    {"nothing", {}, 0, 1000, {}},
};

class RangePlan : public ::testing::TestWithParam<PlanCase> {};

TEST_P(RangePlan, GroupsAsExpected) {
  const PlanCase& c = GetParam();
  std::vector<ByteRange> ranges;
  for (const auto& [offset, length] : c.ranges) ranges.push_back({offset, length, nullptr});
  const std::vector<ReadRequest> plan = plan_range_reads(ranges, {1, c.max_gap, c.max_request});
  ASSERT_EQ(plan.size(), c.expected.size());
  for (std::size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(plan[i].offset, std::get<0>(c.expected[i])) << "request " << i;
    EXPECT_EQ(plan[i].length, std::get<1>(c.expected[i])) << "request " << i;
    EXPECT_EQ(plan[i].ranges, std::get<2>(c.expected[i])) << "request " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, RangePlan, ::testing::ValuesIn(plan_cases),
                         [](const auto& info) { return info.param.name; });

// A temp file of `size` pseudo-random bytes, removed with the object.
struct TempFile {
  std::string path;
  std::vector<std::byte> bytes;
  TempFile(const std::string& name, std::size_t size) : path(testing::temp_path(name)), bytes(size) {
    std::mt19937 rng(7);
    for (auto& b : bytes) b = static_cast<std::byte>(rng() & 0xff);
    WriteFile out(path);
    out.append(bytes);
    out.commit();
  }
  ~TempFile() { std::filesystem::remove(path); }
};

class RangeRead : public ::testing::TestWithParam<unsigned> {};

TEST_P(RangeRead, RandomRangesArriveByteExact) {
  const TempFile file("ranges.bin", 3 * 1024 * 1024 + 17);
  const ReadFile source(file.path);
  std::mt19937 rng(GetParam());
  // Tile-like ranges: mostly adjacent runs with occasional gaps and jumps, in shuffled order.
  std::vector<std::pair<std::uint64_t, std::size_t>> spans;
  std::uint64_t at = 0;
  while (true) {
    const std::size_t length = 1 + rng() % 20000;
    if (rng() % 4 == 0) at += rng() % 3000;
    if (rng() % 16 == 0) at = rng() % file.bytes.size();
    if (at + length > file.bytes.size()) break;
    spans.emplace_back(at, length);
    at += length;
  }
  spans.emplace_back(file.bytes.size() - 5, 5);  // the very end
  std::shuffle(spans.begin(), spans.end(), rng);
  std::vector<std::vector<std::byte>> out(spans.size());
  std::vector<ByteRange> ranges;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    out[i].assign(spans[i].second, std::byte{0});
    ranges.push_back({spans[i].first, spans[i].second, out[i].data()});
  }
  const RangeReadStats stats = read_ranges(source, ranges, {GetParam(), 1024, 256 * 1024});
  EXPECT_GT(stats.coalesced, 0u);
  EXPECT_LT(stats.requests, ranges.size());
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const auto begin = file.bytes.begin() + static_cast<std::ptrdiff_t>(spans[i].first);
    ASSERT_TRUE(std::equal(out[i].begin(), out[i].end(), begin)) << "range " << i << " at " << spans[i].first;
  }
}

TEST_P(RangeRead, UncoalescedReadsGoStraightToDestinations) {
  const TempFile file("direct.bin", 4096);
  const ReadFile source(file.path);
  std::vector<std::byte> a(100), b(100);
  const std::vector<ByteRange> ranges = {{0, 100, a.data()}, {3000, 100, b.data()}};
  const RangeReadStats stats = read_ranges(source, ranges, {GetParam(), 0, 1 << 20});
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.coalesced, 0u);
  EXPECT_EQ(stats.bytes_read, 200u);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), file.bytes.begin()));
  EXPECT_TRUE(std::equal(b.begin(), b.end(), file.bytes.begin() + 3000));
}

TEST_P(RangeRead, ShortFileNamesFileOffsetAndLength) {
  const TempFile file("short.bin", 1000);
  const ReadFile source(file.path);
  std::vector<std::byte> a(100), b(100);
  const std::vector<ByteRange> ranges = {{0, 100, a.data()}, {950, 100, b.data()}};
  try {
    read_ranges(source, ranges, {GetParam(), 1 << 20, 1 << 20});
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(file.path), std::string::npos) << message;
    EXPECT_NE(message.find("offset 950"), std::string::npos) << message;
    EXPECT_NE(message.find("100 bytes"), std::string::npos) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, RangeRead, ::testing::Values(1u, 8u),
                         [](const auto& info) { return "threads_" + std::to_string(info.param); });

}  // namespace
}  // namespace tilestream::io
