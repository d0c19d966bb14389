// O_DIRECT reads: byte ranges of a file read around the page cache, through buffers whose address,
// file offset and length are aligned to what the file system requires.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tilestream/io/file.hpp"

namespace tilestream::io {

// The byte range [offset, offset + length) of a file.
struct AlignedSpan {
  std::uint64_t offset = 0;
  std::size_t length = 0;
};

// The smallest range whose offset and length are multiples of `alignment` and that contains
// [offset, offset + length). A zero length gives a zero-length range at `offset` rounded down.
// Throws UsageError when `alignment` is not a power of two or the range overflows 64 bits.
AlignedSpan aligned_cover(std::uint64_t offset, std::size_t length, std::size_t alignment);

// A read-only file opened with O_DIRECT. pread-based, so one DirectReadFile serves any number of
// threads. Move-only; a moved-from file may only be destroyed or assigned to.
class DirectReadFile {
 public:
  // Throws UnsupportedError when the file system refuses O_DIRECT (tmpfs on older kernels, some
  // FUSE and network file systems), IoError for any other failure (missing file, not a regular file).
  explicit DirectReadFile(std::string path);
  ~DirectReadFile();
  DirectReadFile(DirectReadFile&& other) noexcept;
  DirectReadFile& operator=(DirectReadFile&& other) noexcept;
  DirectReadFile(const DirectReadFile&) = delete;
  DirectReadFile& operator=(const DirectReadFile&) = delete;

  std::uint64_t size() const { return size_; }  // bytes, at open time
  const std::string& name() const { return path_; }
  // The alignment, in bytes and a power of two, of the file offset, the length and the buffer address
  // of every read: the larger of statx's STATX_DIOALIGN offset and memory alignments, 4096 where the
  // kernel or C library does not report them.
  std::size_t alignment() const { return alignment_; }

  // Reads aligned_cover(offset, length, alignment()) into `buffer` and returns the part of `buffer`
  // that holds exactly [offset, offset + length). `buffer` must start at a multiple of alignment() and
  // hold the cover's length (UsageError otherwise); a cover that reaches the end of the file is read
  // short, which is fine since the requested bytes lie before the end. A range past the end of the
  // file, or a failing read, throws IoError naming the file, offset and length.
  std::span<const std::byte> read_covering(std::uint64_t offset, std::size_t length,
                                           std::span<std::byte> buffer) const;

 private:
  void close() noexcept;

  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::size_t alignment_ = 4096;
};

// The files behind a byte source (ByteSource::files(): one for a file, several for a DICOM series)
// opened with O_DIRECT and read by the source's offsets, each read inside one file.
class DirectReadFiles {
 public:
  // Opens every file (errors as DirectReadFile's); UsageError when the source has no file (memory).
  explicit DirectReadFiles(const ByteSource& source);
  // The largest alignment of the files: reads aligned to it are aligned for each of them.
  std::size_t alignment() const { return alignment_; }
  // DirectReadFile::read_covering in the file that holds [offset, offset + length) (IoError when
  // none does).
  std::span<const std::byte> read_covering(std::uint64_t offset, std::size_t length,
                                           std::span<std::byte> buffer) const;

 private:
  std::string name_;
  std::vector<FilePart> parts_;
  std::vector<DirectReadFile> files_;
  std::size_t alignment_ = 1;
};

}  // namespace tilestream::io
