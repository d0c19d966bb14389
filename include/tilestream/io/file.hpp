// Files opened for positional reads and writes, owned through RAII.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace tilestream::io {

// A byte source the TIFF parser and tile readers pull from. Implementations are safe to call
// from many threads at once (positional reads, no shared cursor).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::uint64_t size() const = 0;
  // Name used in error messages (the file's path, or "<memory>").
  virtual const std::string& name() const = 0;
  // Fills dst from `offset`; throws IoError when the range is not inside the source.
  virtual void read_exact(std::uint64_t offset, std::span<std::byte> dst) const = 0;
};

// A read-only file. pread-based, so one ReadFile serves any number of threads.
class ReadFile final : public ByteSource {
 public:
  explicit ReadFile(std::string path);
  ~ReadFile() override;
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;

  std::uint64_t size() const override { return size_; }
  const std::string& name() const override { return path_; }
  void read_exact(std::uint64_t offset, std::span<std::byte> dst) const override;

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Bytes already in memory (fuzzing, tests).
class MemorySource final : public ByteSource {
 public:
  MemorySource(std::span<const std::byte> bytes, std::string name = "<memory>")
      : bytes_(bytes), name_(std::move(name)) {}
  std::uint64_t size() const override { return bytes_.size(); }
  const std::string& name() const override { return name_; }
  void read_exact(std::uint64_t offset, std::span<std::byte> dst) const override;

 private:
  std::span<const std::byte> bytes_;
  std::string name_;
};

// The one temporary-file type: a file written sequentially or positionally under a new
// "<path>.<16 hex digits>.partial" (created exclusively: no existing file or link is written through)
// and renamed to `path` by commit(), so that an interrupted write never leaves a file that looks
// complete. Destroyed without a successful commit(), it closes and removes its partial file: no
// caller removes one by hand. zarr::FileStore's value writers are WriteFiles, and StoreInventory
// recognises the partial name to clean leftovers of a crash before --resume.
class WriteFile {
 public:
  // Creates the partial file next to `path` (its folder must exist). IoError names the partial path;
  // UsageError when `path` exists and is a device, a symbolic link or another special file, which the
  // rename would replace (a folder makes the rename fail).
  explicit WriteFile(std::string path);
  ~WriteFile();
  WriteFile(const WriteFile&) = delete;
  WriteFile& operator=(const WriteFile&) = delete;

  // pwrite of all of `bytes` at `offset`; thread-safe (no shared cursor), so several threads may
  // write their pieces at once. IoError (ENOSPC, EIO...) names the partial path, the offset and the
  // byte count.
  void write_at(std::uint64_t offset, std::span<const std::byte> bytes) const;
  // Writes at size(); not to be mixed with concurrent write_at calls.
  void append(std::span<const std::byte> bytes);
  // One past the last byte written through this object (writes by other means, such as cuFile on
  // partial_path(), are not counted).
  std::uint64_t size() const { return size_.load(); }
  // The size of the partial file as the file system has it (fstat), whoever wrote it.
  std::uint64_t file_size() const;

  struct CommitOptions {
    bool fsync = true;  // fsync the file before the rename, so that a renamed file holds its bytes
  };
  // fsync (as asked), close (checking close()'s result: NFS reports write errors there) and rename
  // into place. On error the partial file is removed and the target is left as it was.
  void commit(CommitOptions options);
  void commit() { commit(CommitOptions{}); }

  const std::string& path() const { return path_; }
  // Where the bytes are until commit(): for writers that open it themselves (cuFile with O_DIRECT).
  const std::string& partial_path() const { return partial_path_; }

 private:
  std::string path_;
  std::string partial_path_;
  int fd_ = -1;
  bool renamed_ = false;
  mutable std::atomic<std::uint64_t> size_{0};
};

}  // namespace tilestream::io
