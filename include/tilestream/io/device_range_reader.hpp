// The io backends of reads into device memory, behind one interface chosen when a read starts: each
// moves one request's byte ranges from the file into a device buffer, range by range to its offset in
// the buffer, queuing any copy on the caller's stream. The device twin of io/range_reader.hpp; the
// device slide reader (slide/device_reader.hpp) turns its tile plans into these requests. Built with
// CUDA only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/stream.hpp"
#include "tilestream/io/file.hpp"
#include "tilestream/io/io_mode.hpp"

namespace tilestream::io {

// `length` bytes at `offset` of the file go to `buffer_offset` bytes into the device buffer.
struct DeviceRange {
  std::uint64_t offset = 0;
  std::size_t length = 0;
  std::size_t buffer_offset = 0;
};

// One read: [offset, offset + length) of the file covers every range (and whatever lies between them).
struct DeviceReadRequest {
  std::uint64_t offset = 0;
  std::size_t length = 0;
  std::vector<DeviceRange> ranges;  // in buffer order, each inside [offset, offset + length)
};

// The buffers a request lands in. `device` is declared before `registration` (gds) so that the
// registration ends before the memory goes; the stream `device` was made on must outlive it
// (DeviceBuffer frees on it).
struct DeviceReadBuffers {
  cuda::DeviceBuffer device;           // capacity bytes
  cuda::PinnedBuffer staging;          // capacity + 2 * staging_slack bytes, page-aligned (posix, direct)
  std::shared_ptr<void> registration;  // gds: the cuFile registration of `device`
};

// Room past a request's bytes in a staging buffer, for O_DIRECT reads widened to the file's alignment.
inline constexpr std::size_t staging_slack = 64 * 1024;

class DeviceRangeReader {
 public:
  virtual ~DeviceRangeReader() = default;
  // Brings every range of `request` into buffers.device; thread-safe across buffers.
  virtual void read(const DeviceReadRequest& request, DeviceReadBuffers& buffers,
                    const cuda::Stream& stream) const = 0;
  // Bytes actually read from the file for `request` (O_DIRECT widens reads to the alignment).
  virtual std::size_t bytes_read(const DeviceReadRequest& request) const { return request.length; }
};

// posix reads through `source`; direct and gds open its files (ByteSource::files(): one, or a DICOM
// series' several) themselves, each range read from the file that holds it.
std::unique_ptr<DeviceRangeReader> make_device_range_reader(IoMode mode, const ByteSource& source);

// The io mode a device run's raw reads take, decided once per run, and a sentence on why (for the
// run's report): auto becomes gds or posix (io::gds::choose_for_auto), gds is checked to be usable
// (UnsupportedError saying why not), posix and direct stay.
struct ResolvedIo {
  IoMode mode = IoMode::posix;
  std::string detail;
};
ResolvedIo resolve_device_io(IoMode wanted);

// Whether mode needs pinned staging buffers (gds reads straight into device memory).
inline bool uses_staging(IoMode mode) { return mode != IoMode::gds; }

}  // namespace tilestream::io
