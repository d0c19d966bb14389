// How much memory this process may still take, and the one check that refuses an allocation sized by
// the input (a whole level, global mode's images) before it is made: host memory is the smaller of
// MemAvailable (/proc/meminfo) and what RLIMIT_AS leaves of the address space; device memory has its
// twin in cuda/memory_budget.hpp. Comparing with *total* memory is not enough: a request between
// available and total memory is the one the OOM killer ends without a word.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tilestream/core/dtype.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream {

// Bytes that may still be allocated and touched in one kind of memory, and what bounds them.
struct MemoryAvailable {
  std::uint64_t bytes = 0;
  std::string memory;  // "host memory", "device memory of cuda:0"
  std::string bound;   // which limit set `bytes`, in words a user can act on
};

// The host limits as read from the system; what could not be read is nullopt.
struct HostMemoryLimits {
  std::optional<std::uint64_t> mem_available;        // MemAvailable of /proc/meminfo, bytes
  std::optional<std::uint64_t> mem_total;            // MemTotal of /proc/meminfo, bytes
  std::optional<std::uint64_t> address_space_limit;  // soft RLIMIT_AS, bytes; nullopt when unlimited
  std::uint64_t address_space_used = 0;              // the process's mapped address space (/proc/self/statm)
};

// Reads /proc/meminfo, getrlimit(RLIMIT_AS) and /proc/self/statm now.
HostMemoryLimits read_host_memory_limits();
// The smaller of MemAvailable and the address space RLIMIT_AS leaves (limit minus what is mapped, 0 when
// more is mapped), naming the one that binds. Neither known: the most a uint64 holds, "no limit known".
MemoryAvailable available_host_memory(const HostMemoryLimits& limits);
MemoryAvailable available_host_memory();

// A /proc/meminfo field ("MemAvailable:   23268208 kB") in bytes; nullopt when absent or malformed.
std::optional<std::uint64_t> parse_meminfo_bytes(std::string_view meminfo, std::string_view key);
// The address-space size of a /proc/self/statm text (its first field, in pages) in bytes.
std::optional<std::uint64_t> parse_statm_bytes(std::string_view statm, std::uint64_t page_bytes);

// What an allocation sized by the input is for, in the words of its refusal.
struct MemoryRequest {
  std::string file;   // the input file; empty when there is none
  std::string place;  // "level 0", "level 0 region 0,0 512x512"; empty when none
  std::string what;   // "reading 90000 x 90000 x 3 uint8 into host memory"
  std::uint64_t bytes = 0;
  std::vector<WayOut> ways_out;
};

// Throws ResourceError when request.bytes exceeds available.bytes, naming the file, the place, the
// bytes needed and available, the bound and the ways out.
void check_memory(const MemoryRequest& request, const MemoryAvailable& available);

// Requests below this are let through by check_host_memory without reading /proc: reading it costs
// more than they risk, and per-chunk allocations of streaming paths stay cheap.
inline constexpr std::uint64_t unchecked_host_bytes = std::uint64_t{64} << 20;
// check_memory against available_host_memory() read now (requests of unchecked_host_bytes or more).
void check_host_memory(const MemoryRequest& request);

// Bytes of a height x width x samples image of `dtype`; the most a uint64 holds when that overflows (so
// that a check against available memory refuses it).
std::uint64_t image_bytes(std::uint64_t height, std::uint64_t width, std::uint32_t samples, DType dtype);

// "24000000000 bytes (22.4 GiB)".
std::string byte_count_text(std::uint64_t bytes);

}  // namespace tilestream
