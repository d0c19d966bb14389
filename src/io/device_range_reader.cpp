// The posix, direct (O_DIRECT) and gds (cuFile) device range readers.
#include "tilestream/io/device_range_reader.hpp"

#include "tilestream/core/error.hpp"
#include "tilestream/io/cufile.hpp"
#include "tilestream/io/direct_file.hpp"

namespace tilestream::io {

ResolvedIo resolve_device_io(IoMode wanted) {
  switch (wanted) {
    case IoMode::posix:
      return {wanted, "posix: pread on the reader's threads into pinned buffers, copied on one stream per thread"};
    case IoMode::direct:
      return {wanted, "direct: O_DIRECT reads into pinned buffers (page cache bypassed), copied on one stream per thread"};
    case IoMode::gds: {
      const gds::DriverInfo& info = gds::driver();  // throws UnsupportedError saying why it cannot run
      return {wanted, concat("gds: cuFile reads into device memory, ", info.mode)};
    }
    case IoMode::automatic: {
      const gds::AutoChoice choice = gds::choose_for_auto();
      if (choice.gds) return {IoMode::gds, choice.reason};
      return {IoMode::posix, concat(choice.reason, ": pread into pinned buffers")};
    }
  }
  throw UsageError("unknown io mode");
}
namespace {

// Copies each range of the request from `base` (where the request's first byte landed in pinned
// memory) to its place in the device buffer.
void copy_ranges(const DeviceReadRequest& request, const std::byte* base, DeviceReadBuffers& buffers,
                 const cuda::Stream& stream) {
  for (const DeviceRange& range : request.ranges) {
    cuda::copy_to_device(buffers.device, {base + (range.offset - request.offset), range.length}, stream,
                         range.buffer_offset);
  }
}

class PosixRangeReader final : public DeviceRangeReader {
 public:
  explicit PosixRangeReader(const ByteSource& source) : source_(source) {}
  void read(const DeviceReadRequest& request, DeviceReadBuffers& buffers,
            const cuda::Stream& stream) const override {
    check<UsageError>(request.length <= buffers.staging.size(), "posix transfer: a task of ", request.length,
                      " bytes does not fit a staging buffer of ", buffers.staging.size());
    source_.read_exact(request.offset, {buffers.staging.data(), request.length});
    copy_ranges(request, buffers.staging.data(), buffers, stream);
  }

 private:
  const ByteSource& source_;
};

class DirectRangeReader final : public DeviceRangeReader {
 public:
  explicit DirectRangeReader(const ByteSource& source) : files_(source) {
    check<UnsupportedError>(files_.alignment() <= staging_slack, source.name(), ": O_DIRECT wants ",
                            files_.alignment(), "-byte alignment, more than the ", staging_slack,
                            " bytes the staging buffers allow");
  }
  void read(const DeviceReadRequest& request, DeviceReadBuffers& buffers,
            const cuda::Stream& stream) const override {
    const std::span<const std::byte> bytes =
        files_.read_covering(request.offset, request.length, buffers.staging.bytes());
    copy_ranges(request, bytes.data(), buffers, stream);
  }
  std::size_t bytes_read(const DeviceReadRequest& request) const override {
    return aligned_cover(request.offset, request.length, files_.alignment()).length;
  }

 private:
  DirectReadFiles files_;
};

// cuFile handles of the source's files; each range is read from the file that holds it.
class GdsRangeReader final : public DeviceRangeReader {
 public:
  explicit GdsRangeReader(const ByteSource& source) : name_(source.name()), parts_(source.files()) {
    check<UsageError>(!parts_.empty(), name_, ": cuFile reads need a file, and these bytes are not in one");
    files_.reserve(parts_.size());
    for (const FilePart& part : parts_) files_.emplace_back(part.path, gds::FileHandle::Mode::read);
  }
  void read(const DeviceReadRequest& request, DeviceReadBuffers& buffers,
            const cuda::Stream& stream) const override {
    // cuFile writes device memory outside the stream: the caller's earlier kernels reading `device`
    // have finished (it waits for them before reusing the buffers), and the next ones are queued after
    // this returns.
    (void)stream;
    for (const DeviceRange& range : request.ranges) {
      const PartOffset at = find_part(parts_, name_, range.offset, range.length);
      const gds::FileHandle& file = files_[at.part];
      const std::size_t got = file.read(buffers.device.data(), range.length, at.offset, range.buffer_offset);
      check<IoError>(got == range.length, file.path(), ": cuFile read of ", range.length, " bytes at offset ",
                     at.offset, " returned ", got, " bytes (the file ends early)");
    }
  }

 private:
  std::string name_;
  std::vector<FilePart> parts_;
  std::vector<gds::FileHandle> files_;
};

}  // namespace

std::unique_ptr<DeviceRangeReader> make_device_range_reader(IoMode mode, const ByteSource& source) {
  switch (mode) {
    case IoMode::posix: return std::make_unique<PosixRangeReader>(source);
    case IoMode::direct: return std::make_unique<DirectRangeReader>(source);
    case IoMode::gds: return std::make_unique<GdsRangeReader>(source);
    case IoMode::automatic: break;
  }
  throw UsageError("make_device_range_reader: resolve the io mode first");
}

}  // namespace tilestream::io
