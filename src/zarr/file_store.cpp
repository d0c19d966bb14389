// FileStore: Zarr keys as files under a root directory; every put is written to a unique
// "<file>.<random>.partial" next to the target and renamed into place, so readers and crashes
// see either the old value or the whole new one.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

#include "tilestream/core/error.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::zarr {
namespace fs = std::filesystem;
namespace {

std::string system_message(int code) { return std::generic_category().message(code); }

// Closes a descriptor it owns; close() errors are checked by release_and_close where they matter.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now and returns close()'s errno (0 on success).
  int close_checked() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// A name no other thread or process picks: random bits from a per-thread generator seeded
// from random_device, plus a process-wide counter.
std::string unique_suffix() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 generator{(static_cast<std::uint64_t>(std::random_device{}()) << 32) ^
                                         std::random_device{}() ^ static_cast<std::uint64_t>(::getpid())};
  const std::uint64_t bits = generator() ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ULL);
  char text[17];
  static constexpr char digits[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) text[i] = digits[(bits >> (60 - 4 * i)) & 0xF];
  text[16] = '\0';
  return text;
}

// mkdir -p that tolerates other threads creating the same directories at the same time.
void create_parent_directories(const fs::path& file) {
  const fs::path parent = file.parent_path();
  if (parent.empty()) return;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::error_code error;
    fs::create_directories(parent, error);
    if (fs::is_directory(parent)) return;
    if (attempt == 2)
      throw IoError(concat("cannot create directory ", parent.string(), ": ",
                           error ? error.message() : std::string("not a directory")));
  }
}

void write_all(int fd, std::span<const std::byte> bytes, const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(concat("cannot write ", path, ": ", bytes.size() - done, " bytes at offset ", done, ": ",
                           system_message(errno)));
    }
    check<IoError>(n > 0, "cannot write ", path, ": ", bytes.size() - done, " bytes at offset ", done,
                   ": write returned 0");
    done += static_cast<std::size_t>(n);  // a short write: write the rest
  }
}

}  // namespace

FileStore::FileStore(std::string root, Options options) : root_(std::move(root)), options_(options) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string FileStore::path_of(const std::string& key) const {
  check<UsageError>(!key.empty() && key.front() != '/', "store ", root_, ": invalid key '", key, "'");
  for (std::size_t start = 0; start <= key.size();) {
    const std::size_t end = std::min(key.find('/', start), key.size());
    const std::string_view part(key.data() + start, end - start);
    check<UsageError>(part != ".." && part != "." && !part.empty(), "store ", root_, ": invalid key '", key,
                      "'");
    start = end + 1;
  }
  return root_ + "/" + key;
}

std::string FileStore::partial_file_for(const std::string& key) {
  const std::string target = path_of(key);
  create_parent_directories(target);
  return target + "." + unique_suffix() + ".partial";
}

void FileStore::commit_file(const std::string& partial, const std::string& key) {
  const std::string target = path_of(key);
  if (::rename(partial.c_str(), target.c_str()) != 0)
    throw IoError(concat("cannot rename ", partial, " to ", target, ": ", system_message(errno)));
}

void FileStore::put(const std::string& key, std::span<const std::byte> bytes) {
  const std::string target = path_of(key);
  create_parent_directories(target);
  const std::string partial = target + "." + unique_suffix() + ".partial";
  const int raw = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (raw < 0)
    throw IoError(concat("cannot create ", partial, " (for ", target, "): ", system_message(errno)));
  FileDescriptor fd(raw);
  try {
    write_all(fd.get(), bytes, target);
    if (options_.fsync && ::fsync(fd.get()) != 0)
      throw IoError(concat("cannot fsync ", target, " (", bytes.size(), " bytes): ", system_message(errno)));
    if (const int error = fd.close_checked(); error != 0)
      throw IoError(concat("cannot close ", target, ": ", system_message(error)));
    if (::rename(partial.c_str(), target.c_str()) != 0)
      throw IoError(concat("cannot rename ", partial, " to ", target, ": ", system_message(errno)));
  } catch (...) {
    ::unlink(partial.c_str());
    throw;
  }
}

std::optional<std::vector<std::byte>> FileStore::get(const std::string& key) const {
  const std::string path = path_of(key);
  const int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw IoError(concat("cannot open ", path, ": ", system_message(errno)));
  }
  FileDescriptor fd(raw);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) throw IoError(concat("cannot stat ", path, ": ", system_message(errno)));
  check<IoError>(S_ISREG(info.st_mode), "cannot read ", path, ": not a regular file");
  std::vector<std::byte> bytes(static_cast<std::size_t>(info.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(concat("cannot read ", path, ": ", bytes.size() - done, " bytes at offset ", done, ": ",
                           system_message(errno)));
    }
    // Values are replaced by renames, never cut in place: a file that ends early was truncated by
    // someone else, and a part of a value must not pass for the value.
    check<IoError>(n > 0, "cannot read ", path, ": the file ended at offset ", done, " of the ", bytes.size(),
                   " bytes it had when opened (truncated while read?)");
    done += static_cast<std::size_t>(n);  // a short read: read the rest
  }
  return bytes;
}

bool FileStore::exists(const std::string& key) const {
  struct stat info {};
  return ::stat(path_of(key).c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

void FileStore::erase(const std::string& key) {
  const std::string path = path_of(key);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw IoError(concat("cannot remove ", path, ": ", system_message(errno)));
}

void fsync_path(const std::string& path, bool directory) {
  const int raw = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (raw < 0) throw IoError(concat("cannot open ", path, " to fsync it: ", system_message(errno)));
  FileDescriptor fd(raw);
  if (::fsync(fd.get()) != 0) throw IoError(concat("cannot fsync ", path, ": ", system_message(errno)));
}

void FileStore::sync_directories() const {
  fsync_path(root_, true);
  std::error_code error;
  for (fs::recursive_directory_iterator it(root_, error), end; !error && it != end; it.increment(error))
    if (it->is_directory()) fsync_path(it->path().string(), true);
  if (error) throw IoError(concat("cannot list ", root_, " to fsync its directories: ", error.message()));
}

bool FileStore::is_empty() const {
  std::error_code error;
  if (!fs::exists(root_, error)) return true;
  check<IoError>(fs::is_directory(root_, error), "store ", root_, " is not a directory");
  return fs::directory_iterator(root_) == fs::directory_iterator();
}

}  // namespace tilestream::zarr
