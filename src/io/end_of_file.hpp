// What a read that met the end of a file says: whether the file shrank since it was opened (another
// process truncated it) or the read asked for bytes the file never had. Shared by the posix and
// O_DIRECT readers.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tilestream/core/error.hpp"

namespace tilestream::io {

// The IoError message for a pread of `fd` (the file `path`, `size_at_open` bytes when opened) that
// returned 0 at `offset_reached` while reading `length` bytes at `offset`.
inline std::string end_of_file_message(int fd, const std::string& path, std::uint64_t size_at_open,
                                       std::uint64_t offset_reached, std::size_t length, std::uint64_t offset) {
  struct stat st {};
  const std::string read = concat("reading ", length, " bytes at offset ", offset, ": ");
  if (::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) < size_at_open) {
    return concat(path, ": ", read, "the file shrank from ", size_at_open, " to ", st.st_size,
                  " bytes while being read (truncated by another process?); offset ", offset_reached,
                  " is now beyond its end");
  }
  return concat(path, ": ", read, "the file ended at offset ", offset_reached, " (", size_at_open,
                " bytes when opened)");
}

}  // namespace tilestream::io
