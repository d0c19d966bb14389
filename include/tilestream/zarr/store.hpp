// Where Zarr bytes live: a key-value store ("kvstore"). Keys are '/'-separated relative paths
// ("level0/c/0/1", "level0/.zarray"). A store knows nothing of arrays, codecs or images.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tilestream::zarr {

class Store {
 public:
  virtual ~Store() = default;
  // Stores `bytes` under `key` atomically: a reader (or a crash) sees either the old value or the
  // whole new one, never a part. Throws IoError naming the key and the system error (ENOSPC...).
  virtual void put(const std::string& key, std::span<const std::byte> bytes) = 0;
  // The value under `key`, or nullopt when there is none.
  virtual std::optional<std::vector<std::byte>> get(const std::string& key) const = 0;
  virtual bool exists(const std::string& key) const = 0;
  virtual void erase(const std::string& key) = 0;
  // Name for messages: the store's root path.
  virtual const std::string& name() const = 0;
};

// A directory on a POSIX file system. put() writes a temporary file next to the target
// ("<key>.<random>.partial"), optionally fsyncs it, and renames it into place.
class FileStore final : public Store {
 public:
  struct Options {
    bool fsync = false;  // fsync each value before the rename (durability against power loss)
  };
  explicit FileStore(std::string root, Options options);
  explicit FileStore(std::string root) : FileStore(std::move(root), Options{}) {}

  void put(const std::string& key, std::span<const std::byte> bytes) override;
  std::optional<std::vector<std::byte>> get(const std::string& key) const override;
  bool exists(const std::string& key) const override;
  void erase(const std::string& key) override;
  const std::string& name() const override { return root_; }
  // Whether values are fsynced before their rename; writers of their own files (commit_file) do the same.
  bool fsync() const { return options_.fsync; }

  // True when the root does not exist or is an empty directory. Replacing or cleaning a store is
  // StoreInventory's job (store_ownership.hpp): it removes only what is ours.
  bool is_empty() const;
  // fsync of the root and every directory under it, so that renames into them are durable too.
  // IoError names the directory that cannot be opened or synced.
  void sync_directories() const;

  // For writers that fill a key's file themselves (streamed from device memory, or with cuFile):
  // a new unique "<file>.<random>.partial" path next to the key's file, its directories created, and
  // commit_file(), which renames it into place. A partial file never committed is a leftover that
  // StoreInventory::remove_partial_files() (before resuming) deletes.
  std::string partial_file_for(const std::string& key);
  void commit_file(const std::string& partial, const std::string& key);
  // The file that holds `key`'s value (to fsync it, for instance).
  std::string file_path(const std::string& key) const { return path_of(key); }

 private:
  std::string path_of(const std::string& key) const;
  std::string root_;
  Options options_;
};

// fsync of the file or directory at `path` (for writers that sync files after the fact); IoError names
// the path.
void fsync_path(const std::string& path, bool directory);

// Values in memory (tests).
class MemoryStore final : public Store {
 public:
  void put(const std::string& key, std::span<const std::byte> bytes) override;
  std::optional<std::vector<std::byte>> get(const std::string& key) const override;
  bool exists(const std::string& key) const override;
  void erase(const std::string& key) override;
  const std::string& name() const override { return name_; }
  std::vector<std::string> keys() const;

 private:
  std::string name_ = "<memory>";
  std::vector<std::pair<std::string, std::vector<std::byte>>> values_;
  mutable std::mutex mutex_;
};

}  // namespace tilestream::zarr
