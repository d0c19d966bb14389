// Available host memory: parsing /proc/meminfo and /proc/self/statm, which of MemAvailable and
// RLIMIT_AS binds (as tables), the refusal's message and ways out, and the guard in HostImage.
#include "tilestream/core/memory_budget.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/core/host_image.hpp"

namespace tilestream {
namespace {

constexpr std::uint64_t KiB = 1024, GiB = std::uint64_t{1} << 30;

const char* const meminfo_text =
    "MemTotal:       24683584 kB\n"
    "MemFree:        22632716 kB\n"
    "MemAvailable:   23268208 kB\n"
    "Buffers:           10324 kB\n"
    "HugePages_Total:       7\n"
    "Weird:            12 MB\n";

struct MeminfoCase {
  const char* text;
  const char* key;
  std::optional<std::uint64_t> bytes;
};

class ParseMeminfo : public ::testing::TestWithParam<MeminfoCase> {};

TEST_P(ParseMeminfo, FieldInBytes) {
  const MeminfoCase& c = GetParam();
  EXPECT_EQ(parse_meminfo_bytes(c.text, c.key), c.bytes) << c.key;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseMeminfo,
    ::testing::Values(MeminfoCase{meminfo_text, "MemAvailable", 23268208 * KiB},
                      MeminfoCase{meminfo_text, "MemTotal", 24683584 * KiB},
                      MeminfoCase{meminfo_text, "Buffers", 10324 * KiB},
                      MeminfoCase{meminfo_text, "HugePages_Total", 7},  // a count: no unit
                      MeminfoCase{meminfo_text, "Weird", std::nullopt},  // a unit we do not know
                      MeminfoCase{meminfo_text, "MemAvail", std::nullopt},  // a prefix is not the key
                      MeminfoCase{meminfo_text, "SwapTotal", std::nullopt},
                      MeminfoCase{"", "MemAvailable", std::nullopt},
                      MeminfoCase{"MemAvailable: lots kB\n", "MemAvailable", std::nullopt},
                      MeminfoCase{"MemAvailable:\t 5 kB\r\n", "MemAvailable", 5 * KiB},
                      MeminfoCase{"MemAvailable: 99999999999999999999 kB\n", "MemAvailable", std::nullopt},
                      MeminfoCase{"MemAvailable: 18014398509481984 kB\n", "MemAvailable", std::nullopt}));

TEST(ParseStatm, FirstFieldInPages) {
  EXPECT_EQ(parse_statm_bytes("12345 678 90 1 0 2 0\n", 4096), 12345u * 4096u);
  EXPECT_EQ(parse_statm_bytes("7", 65536), 7u * 65536u);
  EXPECT_EQ(parse_statm_bytes("", 4096), std::nullopt);
  EXPECT_EQ(parse_statm_bytes("x 1 2", 4096), std::nullopt);
}

struct LimitsCase {
  const char* name;
  HostMemoryLimits limits;
  std::uint64_t bytes;
  const char* bound;  // a part of the bound's words
};

class AvailableHostMemory : public ::testing::TestWithParam<LimitsCase> {};

TEST_P(AvailableHostMemory, SmallerBoundWins) {
  const LimitsCase& c = GetParam();
  const MemoryAvailable got = available_host_memory(c.limits);
  EXPECT_EQ(got.bytes, c.bytes);
  EXPECT_EQ(got.memory, "host memory");
  EXPECT_NE(got.bound.find(c.bound), std::string::npos) << got.bound;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AvailableHostMemory,
    ::testing::Values(
        // No RLIMIT_AS: MemAvailable, with the total named.
        LimitsCase{"meminfo", {20 * GiB, 24 * GiB, std::nullopt, 1 * GiB}, 20 * GiB, "MemAvailable in /proc/meminfo, of"},
        // RLIMIT_AS of 4 GiB with 1 GiB mapped leaves 3 GiB: less than MemAvailable.
        LimitsCase{"rlimit", {20 * GiB, 24 * GiB, 4 * GiB, 1 * GiB}, 3 * GiB, "RLIMIT_AS (ulimit -v) of 4294967296"},
        // A generous RLIMIT_AS: MemAvailable still binds.
        LimitsCase{"rlimit_loose", {20 * GiB, 24 * GiB, 64 * GiB, 1 * GiB}, 20 * GiB, "MemAvailable"},
        // More mapped than the limit (set after the fact): nothing left, not a wrap-around.
        LimitsCase{"rlimit_spent", {20 * GiB, 24 * GiB, 2 * GiB, 3 * GiB}, 0, "3221225472 bytes (3.0 GiB) of it mapped"},
        // Without /proc: RLIMIT_AS alone, or no limit at all.
        LimitsCase{"rlimit_only", {std::nullopt, std::nullopt, 8 * GiB, 2 * GiB}, 6 * GiB, "RLIMIT_AS"},
        LimitsCase{"nothing", {std::nullopt, std::nullopt, std::nullopt, 0}, std::numeric_limits<std::uint64_t>::max(),
                   "no limit known"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(AvailableHostMemory, LiveReadingIsConsistent) {
  const HostMemoryLimits limits = read_host_memory_limits();
  ASSERT_TRUE(limits.mem_available.has_value()) << "no MemAvailable in /proc/meminfo";
  ASSERT_TRUE(limits.mem_total.has_value());
  EXPECT_GT(*limits.mem_available, 0u);
  EXPECT_LE(*limits.mem_available, *limits.mem_total);
  EXPECT_GT(limits.address_space_used, 0u);
  EXPECT_LE(available_host_memory().bytes, *limits.mem_total);
}

TEST(CheckMemory, RefusalNamesFilePlaceSizesBoundAndWaysOut) {
  const MemoryAvailable available{1000, "host memory", "MemAvailable in /proc/meminfo"};
  const MemoryRequest request{"slides/a.tif", "level 2", "reading 10 x 20 x 3 uint8", 1001,
                              {WayOut::region, WayOut::tiled_mode}};
  try {
    check_memory(request, available);
    FAIL() << "1001 bytes passed a check against 1000";
  } catch (const ResourceError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::resource);
    EXPECT_EQ(std::string(e.what()),
              "slides/a.tif: level 2: reading 10 x 20 x 3 uint8 needs 1001 bytes (0.0 GiB) of host memory, more "
              "than the 1000 bytes (0.0 GiB) available (MemAvailable in /proc/meminfo); nothing was allocated; "
              "ways out: read a region (a part of the level), or process in tiled mode, which streams chunks");
    EXPECT_EQ(e.ways_out(), (std::vector<WayOut>{WayOut::region, WayOut::tiled_mode}));
  }
  check_memory({"f", "p", "w", 1000, {}}, available);  // exactly what is available passes
  check_memory({"f", "p", "w", 0, {}}, {0, "host memory", "nothing"});
}

TEST(CheckMemory, ContextKeepsTheKindAndWaysOut) {
  try {
    try {
      check_memory({"", "", "a thing", 2, {WayOut::cpu_device}}, {1, "device memory of cuda:0", "free"});
    } catch (const Error& e) {
      rethrow_with_context(e, "outer");
    }
    FAIL() << "no error";
  } catch (const ResourceError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("outer: a thing needs 2 bytes", 0), 0u) << e.what();
    EXPECT_EQ(e.ways_out(), std::vector<WayOut>{WayOut::cpu_device});
  }
}

TEST(CheckHostMemory, SmallRequestsPassWithoutReading) {
  check_host_memory({"f", "p", "w", unchecked_host_bytes - 1, {}});
  EXPECT_THROW(check_host_memory({"f", "p", "w", std::numeric_limits<std::uint64_t>::max(), {}}), ResourceError);
}

TEST(ImageBytes, SaturatesInsteadOfOverflowing) {
  EXPECT_EQ(image_bytes(3, 5, 4, DType::uint16), 120u);
  EXPECT_EQ(image_bytes(0, 5, 4, DType::float32), 0u);
  EXPECT_EQ(image_bytes(std::uint64_t{1} << 40, std::uint64_t{1} << 20, 16, DType::float32),
            std::numeric_limits<std::uint64_t>::max());
}

TEST(HostImage, MoreThanAvailableIsAResourceErrorBeforeAllocating) {
  // 3 TiB: more than any machine these tests run on has available, below the 4 TiB sanity bound.
  try {
    const HostImage image(std::uint64_t{1} << 20, std::uint64_t{1} << 20, 3, DType::uint8);
    FAIL() << "allocated " << image.size_bytes() << " bytes";
  } catch (const ResourceError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("a 1048576 x 1048576 x 3 uint8 image needs 3298534883328 bytes"), std::string::npos)
        << message;
    EXPECT_NE(message.find("nothing was allocated"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace tilestream
