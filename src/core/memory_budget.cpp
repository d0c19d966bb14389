// Available host memory (MemAvailable, RLIMIT_AS) and the refusal of requests that exceed it.
#include "tilestream/core/memory_budget.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>

namespace tilestream {
namespace {

std::string read_proc_file(const char* path) {
  std::ifstream in(path);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string_view skip_spaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return text;
}

// A decimal number at the start of `text` (after spaces); the rest of the text is left in `text`.
std::optional<std::uint64_t> take_number(std::string_view& text) {
  text = skip_spaces(text);
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return value;
}

std::optional<std::uint64_t> times(std::uint64_t value, std::uint64_t unit) {
  if (unit != 0 && value > std::numeric_limits<std::uint64_t>::max() / unit) return std::nullopt;
  return value * unit;
}

}  // namespace

std::uint64_t image_bytes(std::uint64_t height, std::uint64_t width, std::uint32_t samples, DType dtype) {
  std::uint64_t total = bytes_per_sample(dtype);
  for (const std::uint64_t factor : {std::uint64_t{samples}, width, height}) {
    const std::optional<std::uint64_t> next = times(total, factor);
    if (!next) return std::numeric_limits<std::uint64_t>::max();
    total = *next;
  }
  return total;
}

std::string byte_count_text(std::uint64_t bytes) {
  char gib[32];
  std::snprintf(gib, sizeof gib, "%.1f GiB", static_cast<double>(bytes) / static_cast<double>(1ull << 30));
  return concat(bytes, " bytes (", gib, ")");
}

std::optional<std::uint64_t> parse_meminfo_bytes(std::string_view meminfo, std::string_view key) {
  while (!meminfo.empty()) {
    const std::size_t end = meminfo.find('\n');
    std::string_view line = meminfo.substr(0, end);
    meminfo = end == std::string_view::npos ? std::string_view() : meminfo.substr(end + 1);
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ':') continue;
    line.remove_prefix(key.size() + 1);
    const std::optional<std::uint64_t> value = take_number(line);
    if (!value) return std::nullopt;
    line = skip_spaces(line);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) return value;  // a count without a unit
    if (line == "kB") return times(*value, 1024);
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_statm_bytes(std::string_view statm, std::uint64_t page_bytes) {
  const std::optional<std::uint64_t> pages = take_number(statm);
  if (!pages) return std::nullopt;
  return times(*pages, page_bytes);
}

HostMemoryLimits read_host_memory_limits() {
  HostMemoryLimits limits;
  const std::string meminfo = read_proc_file("/proc/meminfo");
  limits.mem_available = parse_meminfo_bytes(meminfo, "MemAvailable");
  limits.mem_total = parse_meminfo_bytes(meminfo, "MemTotal");
  rlimit as{};
  if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    limits.address_space_limit = static_cast<std::uint64_t>(as.rlim_cur);
  }
  const long page = ::sysconf(_SC_PAGESIZE);
  limits.address_space_used =
      parse_statm_bytes(read_proc_file("/proc/self/statm"), page > 0 ? static_cast<std::uint64_t>(page) : 4096)
          .value_or(0);
  return limits;
}

MemoryAvailable available_host_memory(const HostMemoryLimits& limits) {
  MemoryAvailable out{std::numeric_limits<std::uint64_t>::max(), "host memory",
                      "no limit known: neither /proc/meminfo nor RLIMIT_AS could be read"};
  if (limits.mem_available) {
    out.bytes = *limits.mem_available;
    out.bound = "MemAvailable in /proc/meminfo";
    if (limits.mem_total) out.bound += concat(", of ", byte_count_text(*limits.mem_total), " total");
  }
  if (limits.address_space_limit) {
    const std::uint64_t limit = *limits.address_space_limit;
    const std::uint64_t left = limit > limits.address_space_used ? limit - limits.address_space_used : 0;
    if (left < out.bytes) {
      out.bytes = left;
      out.bound = concat("the address-space limit RLIMIT_AS (ulimit -v) of ", byte_count_text(limit), ", ",
                         byte_count_text(limits.address_space_used), " of it mapped already");
    }
  }
  return out;
}

MemoryAvailable available_host_memory() { return available_host_memory(read_host_memory_limits()); }

void check_memory(const MemoryRequest& request, const MemoryAvailable& available) {
  if (request.bytes <= available.bytes) return;
  std::string message;
  if (!request.file.empty()) message += request.file + ": ";
  if (!request.place.empty()) message += request.place + ": ";
  message += concat(request.what, " needs ", byte_count_text(request.bytes), " of ", available.memory,
                    ", more than the ", byte_count_text(available.bytes), " available (", available.bound,
                    "); nothing was allocated");
  for (std::size_t i = 0; i < request.ways_out.size(); ++i) {
    message += i == 0 ? "; ways out: " : i + 1 == request.ways_out.size() ? ", or " : ", ";
    message += to_string(request.ways_out[i]);
  }
  throw ResourceError(message, request.ways_out);
}

void check_host_memory(const MemoryRequest& request) {
  if (request.bytes < unchecked_host_bytes) return;
  check_memory(request, available_host_memory());
}

}  // namespace tilestream
