// DirectReadFile: O_DIRECT open, the file system's alignment from statx, and aligned covering reads.
#include "tilestream/io/direct_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "io/end_of_file.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::io {
namespace {

std::string system_error(const std::string& what) { return what + ": " + std::strerror(errno); }

// What the kernel asks of O_DIRECT reads on `fd`, or 4096 (the page size, which every file system
// that takes O_DIRECT accepts) where statx cannot say.
std::size_t direct_io_alignment(int fd) {
#ifdef STATX_DIOALIGN
  struct statx st {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &st) == 0 && (st.stx_mask & STATX_DIOALIGN) != 0 &&
      st.stx_dio_offset_align != 0 && st.stx_dio_mem_align != 0) {
    return std::max<std::size_t>(st.stx_dio_offset_align, st.stx_dio_mem_align);
  }
#else
  (void)fd;
#endif
  return 4096;
}

}  // namespace

AlignedSpan aligned_cover(std::uint64_t offset, std::size_t length, std::size_t alignment) {
  check<UsageError>(std::has_single_bit(alignment), "aligned_cover: alignment ", alignment,
                    " is not a power of two");
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t mask = alignment - 1;
  check<UsageError>(length <= max - offset && offset + length <= max - mask, "aligned_cover: ", length,
                    " bytes at offset ", offset, " aligned to ", alignment, " overflow 64 bits");
  const std::uint64_t begin = offset & ~mask;
  if (length == 0) return {begin, 0};
  const std::uint64_t end = (offset + length + mask) & ~mask;
  return {begin, static_cast<std::size_t>(end - begin)};
}

DirectReadFile::DirectReadFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd_ < 0 && errno == EINVAL) {
    throw UnsupportedError(concat(path_, ": the file system does not support O_DIRECT reads (use ", option("io"), " posix)"));
  }
  check<IoError>(fd_ >= 0, system_error(path_ + ": cannot open for O_DIRECT reads"));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const std::string message = system_error(path_ + ": fstat failed");
    close();
    throw IoError(message);
  }
  if (!S_ISREG(st.st_mode)) {
    close();
    throw IoError(path_ + ": not a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
  alignment_ = direct_io_alignment(fd_);
  if (!std::has_single_bit(alignment_)) {
    close();
    throw IoError(concat(path_, ": the file system reports an O_DIRECT alignment of ", alignment_,
                         " bytes, not a power of two"));
  }
}

DirectReadFile::~DirectReadFile() { close(); }

DirectReadFile::DirectReadFile(DirectReadFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      size_(other.size_),
      alignment_(other.alignment_) {}

DirectReadFile& DirectReadFile::operator=(DirectReadFile&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    alignment_ = other.alignment_;
  }
  return *this;
}

void DirectReadFile::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::span<const std::byte> DirectReadFile::read_covering(std::uint64_t offset, std::size_t length,
                                                         std::span<std::byte> buffer) const {
  check<IoError>(offset <= size_ && length <= size_ - offset, path_, ": read of ", length,
                 " bytes at offset ", offset, " goes past the end of the file (", size_, " bytes)");
  if (length == 0) return buffer.first(0);
  const AlignedSpan cover = aligned_cover(offset, length, alignment_);
  check<UsageError>(reinterpret_cast<std::uintptr_t>(buffer.data()) % alignment_ == 0, path_,
                    ": O_DIRECT read of ", length, " bytes at offset ", offset,
                    ": the buffer address is not a multiple of ", alignment_, " bytes");
  check<UsageError>(buffer.size() >= cover.length, path_, ": O_DIRECT read of ", length, " bytes at offset ",
                    offset, " needs a buffer of ", cover.length, " bytes (", cover.offset, " to ",
                    cover.offset + cover.length, "), got ", buffer.size());
  // Bytes of the cover up to the end of the request; the rest of the cover may lie past the end.
  const std::size_t needed = static_cast<std::size_t>(offset - cover.offset) + length;
  std::size_t done = 0;
  while (done < needed) {
    const ssize_t got = ::pread(fd_, buffer.data() + done, cover.length - done,
                                static_cast<off_t>(cover.offset + done));
    if (got < 0 && errno == EINTR) continue;
    check<IoError>(got >= 0, system_error(concat(path_, ": O_DIRECT pread of ", cover.length - done,
                                                 " bytes at offset ", cover.offset + done, " (for ", length,
                                                 " bytes at offset ", offset, ")")));
    if (got == 0) throw IoError(end_of_file_message(fd_, path_, size_, cover.offset + done, length, offset));
    const std::size_t reached = done + static_cast<std::size_t>(got);
    if (reached >= needed) break;
    // Short of the request: O_DIRECT goes on only from an aligned offset, so the bytes past the last
    // aligned one are read again. A read that does not get past an alignment step makes no progress:
    // at the end of the file that is a truncation, elsewhere a file system that cannot serve the read.
    const std::size_t resume_at = reached / alignment_ * alignment_;
    if (resume_at <= done) {
      struct stat st {};
      if (::fstat(fd_, &st) == 0 && static_cast<std::uint64_t>(st.st_size) <= cover.offset + reached)
        throw IoError(end_of_file_message(fd_, path_, size_, cover.offset + reached, length, offset));
      throw IoError(concat(path_, ": O_DIRECT pread at offset ", cover.offset + done, " returned ", got,
                           " bytes, less than the ", alignment_, "-byte alignment, before the end of the file (for ",
                           length, " bytes at offset ", offset, "); use ", option("io"), " posix"));
    }
    done = resume_at;
  }
  return buffer.subspan(static_cast<std::size_t>(offset - cover.offset), length);
}

DirectReadFiles::DirectReadFiles(const ByteSource& source) : name_(source.name()), parts_(source.files()) {
  check<UsageError>(!parts_.empty(), name_, ": O_DIRECT reads need a file, and these bytes are not in one");
  files_.reserve(parts_.size());
  for (const FilePart& part : parts_) {
    files_.emplace_back(part.path);
    alignment_ = std::max(alignment_, files_.back().alignment());
  }
}

std::span<const std::byte> DirectReadFiles::read_covering(std::uint64_t offset, std::size_t length,
                                                          std::span<std::byte> buffer) const {
  const PartOffset at = find_part(parts_, name_, offset, length);
  // Bases are multiples of every alignment (FileSeries::part_stride), so the file's cover is the
  // source's cover moved by the base; reading with the file's own alignment reads no more.
  return files_[at.part].read_covering(at.offset, length, buffer);
}

}  // namespace tilestream::io
