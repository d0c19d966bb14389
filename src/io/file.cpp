// POSIX implementation of ReadFile / WriteFile and the in-memory source.
#include "tilestream/io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "io/end_of_file.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::io {
namespace {

// `what`, then the current errno's text.
std::string system_error(const std::string& what) { return what + ": " + std::strerror(errno); }

// "<path>.<16 hex digits>.partial", a name no other writer picks: an existing file of that name (or a
// link there) is never truncated or written through, as it could be anyone's.
std::string partial_name(const std::string& path) {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint64_t seed = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  const std::uint64_t bits = seed ^ (static_cast<std::uint64_t>(::getpid()) << 40) ^
                             ((counter.fetch_add(1) + 1) * 0x9E3779B97F4A7C15ULL);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
  return path + "." + text + ".partial";
}

}  // namespace

ReadFile::ReadFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  check<IoError>(fd_ >= 0, system_error(path_ + ": cannot open"));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const std::string message = system_error(path_ + ": fstat failed");
    ::close(fd_);
    throw IoError(message);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw IoError(path_ + ": not a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

ReadFile::~ReadFile() {
  if (fd_ >= 0) ::close(fd_);
}

void ReadFile::read_exact(std::uint64_t offset, std::span<std::byte> dst) const {
  check<IoError>(offset <= size_ && dst.size() <= size_ - offset, path_, ": read of ", dst.size(),
                 " bytes at offset ", offset, " goes past the end of the file (", size_, " bytes)");
  std::size_t done = 0;
  while (done < dst.size()) {
    const ssize_t got = ::pread(fd_, dst.data() + done, dst.size() - done,
                                static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    check<IoError>(got >= 0, system_error(concat(path_, ": pread of ", dst.size() - done, " bytes at offset ",
                                                 offset + done,
                                                 done > 0 ? concat(" (the rest of ", dst.size(), " bytes at offset ",
                                                                   offset, ")")
                                                          : std::string())));
    if (got == 0) throw IoError(end_of_file_message(fd_, path_, size_, offset + done, dst.size(), offset));
    // A short read (a signal, a network or FUSE file system) is not the end: read the rest.
    done += static_cast<std::size_t>(got);
  }
}

void MemorySource::read_exact(std::uint64_t offset, std::span<std::byte> dst) const {
  check<IoError>(offset <= bytes_.size() && dst.size() <= bytes_.size() - offset, name_,
                 ": read of ", dst.size(), " bytes at offset ", offset, " goes past the end (",
                 bytes_.size(), " bytes)");
  if (!dst.empty()) std::memcpy(dst.data(), bytes_.data() + offset, dst.size());
}

WriteFile::WriteFile(std::string path) : path_(std::move(path)), partial_path_(partial_name(path_)) {
  // The rename would replace whatever has the name: a device node (`synth /dev/null` as root replaced
  // /dev/null with a file), a symbolic link or a socket is not ours to replace. (A folder makes the
  // rename itself fail, replacing nothing.)
  struct stat existing {};
  if (::lstat(path_.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode) && !S_ISDIR(existing.st_mode)) {
    throw UsageError(concat(path_, " exists and is not a regular file (",
                            S_ISLNK(existing.st_mode)                                 ? "a symbolic link"
                            : S_ISCHR(existing.st_mode) || S_ISBLK(existing.st_mode) ? "a device"
                                                                                      : "a special file",
                            "): tilestream writes only new files or replaces regular ones"));
  }
  fd_ = ::open(partial_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError(system_error(concat("cannot create ", partial_path_)));
}

WriteFile::~WriteFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!renamed_) ::unlink(partial_path_.c_str());
}

void WriteFile::write_at(std::uint64_t offset, std::span<const std::byte> bytes) const {
  check<IoError>(fd_ >= 0, "cannot write ", partial_path_, ": already closed");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t put =
        ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) {
      const std::string what = concat("cannot write ", bytes.size() - done, " bytes at offset ",
                                      offset + done, " of ", partial_path_);
      throw IoError(put < 0 ? system_error(what) : what + ": pwrite wrote nothing");
    }
    done += static_cast<std::size_t>(put);  // a short write: write the rest
  }
  const std::uint64_t end = offset + bytes.size();
  for (std::uint64_t seen = size_.load(); end > seen && !size_.compare_exchange_weak(seen, end);) {
  }
}

void WriteFile::append(std::span<const std::byte> bytes) { write_at(size_.load(), bytes); }

std::uint64_t WriteFile::file_size() const {
  struct stat st {};
  if (fd_ < 0) throw IoError(concat("cannot stat ", partial_path_, ": already closed"));
  if (::fstat(fd_, &st) != 0) throw IoError(system_error(concat("cannot stat ", partial_path_)));
  return static_cast<std::uint64_t>(st.st_size);
}

void WriteFile::commit(CommitOptions options) {
  check<IoError>(fd_ >= 0, "cannot commit ", partial_path_, ": already closed");
  // A failure below leaves what is left to the destructor, which removes the partial file.
  if (options.fsync && ::fsync(fd_) != 0)
    throw IoError(system_error(concat("cannot fsync ", partial_path_, " (", size_.load(), " bytes)")));
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw IoError(system_error(concat("cannot close ", partial_path_)));
  if (::rename(partial_path_.c_str(), path_.c_str()) != 0)
    throw IoError(system_error(concat("cannot rename ", partial_path_, " to ", path_)));
  renamed_ = true;
}

}  // namespace tilestream::io
