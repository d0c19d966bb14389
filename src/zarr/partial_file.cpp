// PartialFile: a uniquely named file filled with pwrite and removed unless committed.
#include "tilestream/zarr/partial_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "tilestream/core/error.hpp"

namespace tilestream::zarr {
namespace {

std::string system_message(int code) { return std::generic_category().message(code); }

}  // namespace

PartialFile::PartialFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError(concat("cannot create ", path_, ": ", system_message(errno)));
}

PartialFile::~PartialFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(path_.c_str());
}

void PartialFile::write_at(std::uint64_t offset, std::span<const std::byte> bytes) const {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw IoError(concat("cannot write ", bytes.size() - done, " bytes at offset ", offset + done, " of ", path_,
                           ": ", n < 0 ? system_message(errno) : std::string("pwrite wrote nothing")));
    }
    done += static_cast<std::size_t>(n);
  }
}

void PartialFile::sync() const {
  if (fd_ < 0) throw IoError(concat("cannot fsync ", path_, ": already closed"));
  if (::fsync(fd_) != 0) throw IoError(concat("cannot fsync ", path_, ": ", system_message(errno)));
}

void PartialFile::close() {
  const int fd = fd_;
  fd_ = -1;
  if (fd >= 0 && ::close(fd) != 0) throw IoError(concat("cannot close ", path_, ": ", system_message(errno)));
}

}  // namespace tilestream::zarr
