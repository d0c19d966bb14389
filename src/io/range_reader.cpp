// The posix io backend: plans coalesced reads and runs them on a thread pool.
#include "tilestream/io/range_reader.hpp"

#include <algorithm>
#include <cstring>

#include "tilestream/core/error.hpp"
#include "tilestream/core/parallel.hpp"
#include "tilestream/core/settings.hpp"

namespace tilestream::io {

std::vector<ReadRequest> plan_range_reads(std::span<const ByteRange> ranges, const RangeReadOptions& options) {
  check<UsageError>(options.max_request > 0, "range reads: max_request must be positive");
  std::vector<std::size_t> order;
  order.reserve(ranges.size());
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].length > 0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return ranges[a].offset < ranges[b].offset; });
  std::vector<ReadRequest> requests;
  std::uint64_t end = 0;  // end of the current request
  for (const std::size_t i : order) {
    const ByteRange& r = ranges[i];
    const std::uint64_t r_end = r.offset + r.length;
    if (!requests.empty()) {
      ReadRequest& current = requests.back();
      const std::uint64_t grown_end = std::max(end, r_end);
      if (r.offset <= end + options.max_gap && grown_end - current.offset <= options.max_request) {
        current.ranges.push_back(i);
        end = grown_end;
        current.length = static_cast<std::size_t>(end - current.offset);
        continue;
      }
    }
    requests.push_back(ReadRequest{r.offset, r.length, {i}});
    end = r_end;
  }
  return requests;
}

RangeReadStats read_ranges(const ByteSource& source, std::span<const ByteRange> ranges,
                           const RangeReadOptions& options) {
  for (const ByteRange& r : ranges) {
    check<IoError>(r.offset <= source.size() && r.length <= source.size() - r.offset, source.name(),
                   ": read of ", r.length, " bytes at offset ", r.offset, " goes past the end of the file (",
                   source.size(), " bytes)");
    check<UsageError>(r.length == 0 || r.destination != nullptr, source.name(), ": read of ", r.length,
                      " bytes at offset ", r.offset, " has no destination");
  }
  const std::vector<ReadRequest> requests = plan_range_reads(ranges, options);
  const unsigned workers =
      static_cast<unsigned>(std::min<std::size_t>(resolve_threads(options.threads), std::max<std::size_t>(requests.size(), 1)));
  std::vector<std::vector<std::byte>> staging(workers);  // per worker, reused across its requests
  parallel_for_workers(requests.size(), workers, [&](std::size_t n, unsigned worker) {
    const ReadRequest& request = requests[n];
    if (!request.coalesced()) {
      const ByteRange& r = ranges[request.ranges.front()];
      source.read_exact(r.offset, {r.destination, r.length});
      return;
    }
    std::vector<std::byte>& buffer = staging[worker];
    buffer.resize(request.length);
    source.read_exact(request.offset, buffer);
    for (const std::size_t i : request.ranges) {
      const ByteRange& r = ranges[i];
      std::memcpy(r.destination, buffer.data() + (r.offset - request.offset), r.length);
    }
  });
  RangeReadStats stats;
  stats.requests = requests.size();
  for (const ReadRequest& request : requests) {
    stats.coalesced += request.coalesced() ? 1 : 0;
    stats.bytes_read += request.length;
  }
  return stats;
}

}  // namespace tilestream::io
