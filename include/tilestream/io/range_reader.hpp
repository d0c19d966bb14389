// The posix io backend: many byte ranges of one file read with pread on a pool of threads, ranges
// that lie close together coalesced into one large read through a staging buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tilestream/io/file.hpp"

namespace tilestream::io {

// `length` bytes at `offset` of the file go to `destination`, which the caller owns and which must
// hold `length` bytes. Destinations of different ranges must not overlap.
struct ByteRange {
  std::uint64_t offset = 0;
  std::size_t length = 0;
  std::byte* destination = nullptr;
};

struct RangeReadOptions {
  unsigned threads = 0;                            // 0: the default (TILESTREAM_THREADS, else all cores)
  std::uint64_t max_gap = 64 * 1024;               // ranges at most this far apart share a read
  std::size_t max_request = 16 * 1024 * 1024;      // a coalesced read never exceeds this many bytes
};

// One pread: [offset, offset + length) of the file, serving ranges[i] for every i in `ranges`
// (indices into the caller's list, by increasing offset). A request of one range reads straight into
// its destination; a coalesced one reads into a staging buffer and scatters.
struct ReadRequest {
  std::uint64_t offset = 0;
  std::size_t length = 0;
  std::vector<std::size_t> ranges;
  bool coalesced() const { return ranges.size() > 1; }
};

// Groups the non-empty ranges, sorted by offset, into requests: the next range joins the current
// request when it starts at most max_gap bytes after the request's end (overlaps join too) and the
// grown request stays within max_request bytes. A range longer than max_request is a request alone.
// Pure planning: touches no file.
std::vector<ReadRequest> plan_range_reads(std::span<const ByteRange> ranges, const RangeReadOptions& options);

struct RangeReadStats {
  std::size_t requests = 0;       // preads issued (one per request)
  std::size_t coalesced = 0;      // of which served several ranges
  std::uint64_t bytes_read = 0;   // bytes read from the file, gaps included
};

// Reads every range of `source` (a ReadFile, or any ByteSource) on up to options.threads threads.
// Every range is checked against the file size first; errors are IoError naming the file, the offset
// and the length (of the range past the end, or of the failing read). Thread-safe for distinct
// destinations; blocks until all reads finished or one failed.
RangeReadStats read_ranges(const ByteSource& source, std::span<const ByteRange> ranges,
                           const RangeReadOptions& options = {});

}  // namespace tilestream::io
