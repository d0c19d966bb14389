// Files opened for positional reads and writes, owned through RAII.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tilestream::io {

// A file behind a byte source and where its bytes lie in the source's offsets: [base, base + size).
struct FilePart {
  std::string path;
  std::uint64_t base = 0;
  std::uint64_t size = 0;
};

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
  // The files behind the offsets, by increasing base, for readers that open them themselves (O_DIRECT,
  // cuFile): one for a file, one per file for a FileSeries, none for bytes in memory.
  virtual std::vector<FilePart> files() const { return {}; }
  // Where `offset` lies, for messages: "offset N", or "offset N of <file>" where several files make the
  // source.
  virtual std::string locate(std::uint64_t offset) const;
};

// The file of `files` that holds [offset, offset + length) and the offset there. IoError naming `name`
// when no file holds the whole range (a read between or across files).
struct PartOffset {
  std::size_t part = 0;
  std::uint64_t offset = 0;
};
PartOffset find_part(const std::vector<FilePart>& files, const std::string& name, std::uint64_t offset,
                     std::uint64_t length);

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
  std::vector<FilePart> files() const override { return {{path_, 0, size_}}; }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Several files read as one source (a DICOM series: one file per instance, a level's frames possibly in
// several of them): file k's bytes lie at [k * part_stride, k * part_stride + its size), so that any
// byte of the series has one offset, which every reader (pread, O_DIRECT, cuFile) maps back to its
// file. The stride leaves gaps far wider than any coalesced read (io::RangeReadOptions::max_request,
// the device readers' tasks), so no read spans two files; a read that would is an IoError. Bases are
// multiples of any O_DIRECT alignment, so aligned covers map to aligned covers of the file.
class FileSeries final : public ByteSource {
 public:
  static constexpr std::uint64_t part_stride = std::uint64_t{1} << 40;
  // Opens every file (IoError naming the one that fails; UnsupportedError for a file of part_stride
  // bytes or more). `name` names the series in messages (its folder).
  FileSeries(std::string name, const std::vector<std::string>& paths);
  std::uint64_t size() const override;
  const std::string& name() const override { return name_; }
  void read_exact(std::uint64_t offset, std::span<std::byte> dst) const override;
  std::vector<FilePart> files() const override;
  std::string locate(std::uint64_t offset) const override;
  std::size_t count() const { return files_.size(); }
  const ReadFile& file(std::size_t k) const { return *files_[k]; }
  static std::uint64_t base_of(std::size_t k) { return k * part_stride; }

 private:
  std::string name_;
  std::vector<std::unique_ptr<ReadFile>> files_;
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
