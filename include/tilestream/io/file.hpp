// Files opened for positional reads and writes, owned through RAII.
#pragma once

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

// A file written sequentially or positionally. Written under a new "<path>.<16 hex digits>.partial"
// (created exclusively: no existing file or link is written through) and renamed to `path` by
// commit(), so that an interrupted write never leaves a file that looks complete.
class WriteFile {
 public:
  explicit WriteFile(std::string path);
  ~WriteFile();  // removes the partial file when commit() was not reached
  WriteFile(const WriteFile&) = delete;
  WriteFile& operator=(const WriteFile&) = delete;

  void write_at(std::uint64_t offset, std::span<const std::byte> bytes);
  void append(std::span<const std::byte> bytes);
  std::uint64_t size() const { return size_; }
  void commit();  // flushes, closes and renames into place

 private:
  std::string path_;
  std::string partial_path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace tilestream::io
