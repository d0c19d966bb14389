// A cursor over a DICOM file: little-endian values read through a window of the file that is refilled
// as the position moves past it, every read checked against the file's end.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/io/file.hpp"

namespace tilestream::dicom {

class Cursor {
 public:
  Cursor(const io::ByteSource& source, std::size_t window_bytes)
      : source_(source), size_(source.size()), window_bytes_(window_bytes) {}

  std::uint64_t pos = 0;
  std::uint64_t size() const { return size_; }
  const std::string& file() const { return source_.name(); }

  // The next n bytes, which must lie in the file (FormatError naming `what` otherwise).
  const std::byte* take(std::size_t n, const char* what) {
    check<FormatError>(pos <= size_ && n <= size_ - pos, file(), ": ", what, " at offset ", pos, " needs ", n,
                       " bytes, but the file ends at ", size_);
    if (pos < window_start_ || pos + n > window_start_ + window_.size()) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(std::max(n, window_bytes_), size_ - pos));
      window_.resize(want);
      source_.read_exact(pos, window_);
      window_start_ = pos;
    }
    const std::byte* at = window_.data() + (pos - window_start_);
    pos += n;
    return at;
  }
  std::uint16_t u16(const char* what) {
    const std::byte* b = take(2, what);
    return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[0]) | (std::to_integer<unsigned>(b[1]) << 8));
  }
  std::uint32_t u32(const char* what) {
    const std::byte* b = take(4, what);
    std::uint32_t v = 0;
    for (int k = 3; k >= 0; --k) v = (v << 8) | std::to_integer<std::uint32_t>(b[k]);
    return v;
  }
  void skip(std::uint64_t n, const char* what) {
    check<FormatError>(pos <= size_ && n <= size_ - pos, file(), ": ", what, " at offset ", pos, " holds ", n,
                       " bytes, past the end of the file (", size_, " bytes)");
    pos += n;
  }

 private:
  const io::ByteSource& source_;
  std::uint64_t size_;
  std::size_t window_bytes_;
  std::vector<std::byte> window_;
  std::uint64_t window_start_ = 0;
};

}  // namespace tilestream::dicom
