// A key's file being written in place by a writer that fills it itself (positional writes from many
// threads, streamed from pinned or device memory) rather than through Store::put. The file is a
// FileStore::partial_file_for() path; it is removed on destruction unless the writer closed it and
// FileStore::commit_file() renamed it into place, so a failed or interrupted block leaves no file
// under its key.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace tilestream::zarr {

class PartialFile {
 public:
  // Creates `path`, which must not exist (O_EXCL). IoError names the path and the system error.
  explicit PartialFile(std::string path);
  ~PartialFile();
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;

  // pwrite of all of `bytes` at `offset`; thread-safe (no shared cursor). IoError (ENOSPC, EIO...)
  // names the path, the offset and the byte count.
  void write_at(std::uint64_t offset, std::span<const std::byte> bytes) const;
  // fsync of what was written (before close() and the rename, for durability); IoError names the path.
  void sync() const;
  // Closes the descriptor, checking close()'s result (NFS reports write errors there).
  void close();
  // Marks the file as renamed into place: the destructor then leaves it alone.
  void committed() { committed_ = true; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace tilestream::zarr
