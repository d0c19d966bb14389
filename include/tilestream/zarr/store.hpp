// Where Zarr bytes live: a key-value store ("kvstore"). Keys are '/'-separated relative paths
// ("level0/c/0/1", "level0/.zarray"). A store knows nothing of arrays, codecs or images.
//
// Every value is written through one seam, the streaming write: begin(key, size) gives a
// ValueWriter, pieces are written at their offsets (from several threads at once, from host memory,
// and where the store offers its value's file, from device memory with cuFile), then commit() makes
// the value the key's atomically, or the writer is destroyed uncommitted and nothing changes. put()
// is begin + one write + commit.
//
// Durability (--fsync) is one policy, the store's, applied by every commit (so by every writer:
// convert, process, the GPU writer, metadata): a store that syncs on commit fsyncs the value's file
// before its rename, then fsyncs the folder that holds it after the rename, and the first commit
// under a folder the store had not yet synced also fsyncs that folder's entry in its parent (up to
// the store's root, whose own entry is synced once). Commits that meet at one folder share its fsync
// (group commit). When commit() returns, the value survives a power loss; a crash at any point never
// leaves a renamed file without its bytes. A folder fsync that fails after the rename leaves the new
// value in place (whole, but not known to be durable) and throws IoError naming the folder.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tilestream::zarr {

// A value of known size being written under a key. Destroyed without a successful commit(), it is
// abandoned: the key keeps its old value (or none) and no temporary file is left.
class ValueWriter {
 public:
  ValueWriter(std::string key, std::uint64_t size) : key_(std::move(key)), size_(size) {}
  virtual ~ValueWriter() = default;
  ValueWriter(const ValueWriter&) = delete;
  ValueWriter& operator=(const ValueWriter&) = delete;

  const std::string& key() const { return key_; }
  std::uint64_t size() const { return size_; }

  // Copies `bytes` to [offset, offset + bytes.size()) of the value, which must lie within size()
  // (UsageError otherwise). Thread-safe: several threads may write disjoint pieces at once. IoError
  // (ENOSPC, EIO...) names the key's file or the key, the offset and the byte count.
  virtual void write(std::uint64_t offset, std::span<const std::byte> bytes) = 0;

  // The device-write capability: the path of the local file that holds the value until commit(),
  // for writers that fill it by other means than write() (cuFile from device memory, which opens it
  // with O_DIRECT); nullptr where the value is not a file (MemoryStore). Such writes must be done
  // and their descriptors closed before commit(). Store::values_are_files() says it once per store.
  virtual const std::string* file() const { return nullptr; }

  // Makes the value the key's: a reader (or a crash) sees the old value or the whole new one, never a
  // part. Applies the store's durability policy (see above). The value must have reached size()
  // (UsageError naming the key otherwise). After an error the value is abandoned, but for a folder
  // fsync failing after the rename (see above).
  virtual void commit() = 0;

 protected:
  // UsageError naming the key unless [offset, offset + bytes) lies within size().
  void check_within(std::uint64_t offset, std::size_t bytes) const;
  // UsageError naming the key unless `written` == size().
  void check_complete(std::uint64_t written) const;

 private:
  std::string key_;
  std::uint64_t size_;
};

class Store {
 public:
  virtual ~Store() = default;
  // Begins the value of `size` bytes under `key`. Nothing under the key changes before commit().
  // Thread-safe; many values may be in progress at once.
  virtual std::unique_ptr<ValueWriter> begin(const std::string& key, std::uint64_t size) = 0;
  // Stores `bytes` under `key` atomically (begin, write, commit). Throws IoError naming the key and
  // the system error (ENOSPC...).
  void put(const std::string& key, std::span<const std::byte> bytes);
  // The value under `key`, or nullopt when there is none.
  virtual std::optional<std::vector<std::byte>> get(const std::string& key) const = 0;
  virtual bool exists(const std::string& key) const = 0;
  virtual void erase(const std::string& key) = 0;
  // Name for messages: the store's root path.
  virtual const std::string& name() const = 0;
  // Whether commit() waits for the disk (the durability policy above): writers that care hand their
  // commits to other threads so that they do not wait with them.
  virtual bool syncs_on_commit() const { return false; }
  // Whether every ValueWriter of this store offers file() (device writes with cuFile).
  virtual bool values_are_files() const { return false; }
};

// A directory on a POSIX file system. A value is written to a unique "<file>.<16 hex>.partial" next
// to the key's file (io::WriteFile; StoreInventory recognises the name) and renamed into place.
class FileStore final : public Store {
 public:
  struct Options {
    bool fsync = false;  // the durability policy above (against power loss)
  };
  explicit FileStore(std::string root, Options options);
  explicit FileStore(std::string root) : FileStore(std::move(root), Options{}) {}

  std::unique_ptr<ValueWriter> begin(const std::string& key, std::uint64_t size) override;
  std::optional<std::vector<std::byte>> get(const std::string& key) const override;
  bool exists(const std::string& key) const override;
  void erase(const std::string& key) override;
  const std::string& name() const override { return root_; }
  bool syncs_on_commit() const override { return options_.fsync; }
  bool values_are_files() const override { return true; }

  // True when the root does not exist or is an empty directory. Replacing or cleaning a store is
  // StoreInventory's job (store_ownership.hpp): it removes only what is ours.
  bool is_empty() const;

 private:
  class FileValue;
  std::string path_of(const std::string& key) const;
  // The policy's folder syncs after `file` was renamed into place (see above).
  void sync_folders_of(const std::string& file);
  // Returns once an fsync of `folder` that began after the call has ended; concurrent callers share
  // one fsync (group commit).
  void sync_folder_covering(const std::string& folder);

  std::string root_;
  Options options_;
  struct FolderSync {
    std::uint64_t changes = 0;  // callers so far
    std::uint64_t covered = 0;  // callers whose change a finished fsync covers
    bool syncing = false;
  };
  std::mutex sync_mutex_;
  std::condition_variable folder_synced_;
  std::map<std::string, FolderSync> folder_syncs_;
  std::set<std::string> entries_synced_;  // folders whose entry in their parent is durable
};

// Values in memory (tests, and the proof that writers need nothing but the Store interface).
class MemoryStore final : public Store {
 public:
  std::unique_ptr<ValueWriter> begin(const std::string& key, std::uint64_t size) override;
  std::optional<std::vector<std::byte>> get(const std::string& key) const override;
  bool exists(const std::string& key) const override;
  void erase(const std::string& key) override;
  const std::string& name() const override { return name_; }
  std::vector<std::string> keys() const;

 private:
  class MemoryValue;
  void set(const std::string& key, std::vector<std::byte> bytes);

  std::string name_ = "<memory>";
  std::vector<std::pair<std::string, std::vector<std::byte>>> values_;
  mutable std::mutex mutex_;
};

}  // namespace tilestream::zarr
