// FileStore: Zarr keys as files under a root directory. Every value is an io::WriteFile (a unique
// "<file>.<16 hex>.partial" next to the target, renamed into place at commit), so readers and crashes
// see either the old value or the whole new one; with fsync, commits follow the durability policy of
// store.hpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "tilestream/core/error.hpp"
#include "tilestream/io/file.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::zarr {
namespace fs = std::filesystem;
namespace {

std::string system_message(int code) { return std::generic_category().message(code); }

// Closes a descriptor it owns (read-only files and folders: close() has nothing to report).
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

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

// fsync of the folder at `path`; IoError names it.
void sync_folder(const std::string& path) {
  const int raw = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) throw IoError(concat("cannot open folder ", path, " to fsync it: ", system_message(errno)));
  FileDescriptor fd(raw);
  if (::fsync(fd.get()) != 0)
    throw IoError(concat("cannot fsync folder ", path, ": ", system_message(errno)));
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

// A value's file: an io::WriteFile, whose partial file is removed unless commit() renamed it.
class FileStore::FileValue final : public ValueWriter {
 public:
  FileValue(FileStore& store, const std::string& key, std::uint64_t size, const std::string& target)
      : ValueWriter(key, size), store_(store), file_(target) {}

  void write(std::uint64_t offset, std::span<const std::byte> bytes) override {
    check_within(offset, bytes.size());
    file_.write_at(offset, bytes);
  }

  const std::string* file() const override { return &file_.partial_path(); }

  void commit() override {
    // The file system's size: pieces written with cuFile count too.
    check_complete(file_.file_size());
    file_.commit({.fsync = store_.options_.fsync});
    if (store_.options_.fsync) store_.sync_folders_of(file_.path());
  }

 private:
  FileStore& store_;
  io::WriteFile file_;
};

std::unique_ptr<ValueWriter> FileStore::begin(const std::string& key, std::uint64_t size) {
  const std::string target = path_of(key);
  create_parent_directories(target);
  return std::make_unique<FileValue>(*this, key, size, target);
}

void FileStore::sync_folders_of(const std::string& file) {
  const fs::path folder = fs::path(file).parent_path();
  sync_folder_covering(folder.string());  // the rename
  // Every folder from the value's up to the root may be new: its entry in its parent, once.
  for (fs::path f = folder; f.string().size() >= root_.size(); f = f.parent_path()) {
    {
      std::lock_guard lock(sync_mutex_);
      if (entries_synced_.contains(f.string())) continue;
    }
    const fs::path parent = f.parent_path();
    sync_folder_covering(parent.empty() ? std::string(".") : parent.string());
    {
      std::lock_guard lock(sync_mutex_);
      entries_synced_.insert(f.string());
    }
    if (parent.empty() || parent == f) break;
  }
}

// Group commit: a change is durable once an fsync of its folder that began after it has ended, so
// threads whose changes came before a sync under way wait for the next one, which one of them runs for
// all. A failed sync throws in the thread that ran it; its waiters try again themselves.
void FileStore::sync_folder_covering(const std::string& folder) {
  std::unique_lock lock(sync_mutex_);
  FolderSync& state = folder_syncs_[folder];  // std::map: the reference outlives other insertions
  const std::uint64_t change = ++state.changes;
  while (state.covered < change) {
    if (state.syncing) {
      folder_synced_.wait(lock);
      continue;
    }
    state.syncing = true;
    const std::uint64_t covers = state.changes;  // every change counted so far happened before this sync
    lock.unlock();
    try {
      sync_folder(folder);
    } catch (...) {
      lock.lock();
      state.syncing = false;
      folder_synced_.notify_all();
      throw;
    }
    lock.lock();
    state.syncing = false;
    state.covered = std::max(state.covered, covers);
    folder_synced_.notify_all();
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

bool FileStore::is_empty() const {
  std::error_code error;
  if (!fs::exists(root_, error)) return true;
  check<IoError>(fs::is_directory(root_, error), "store ", root_, " is not a directory");
  return fs::directory_iterator(root_) == fs::directory_iterator();
}

}  // namespace tilestream::zarr
