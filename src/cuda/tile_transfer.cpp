// The posix, direct (O_DIRECT) and gds (cuFile) tile transfers.
#include "tile_transfer.hpp"

#include "tilestream/core/error.hpp"
#include "tilestream/io/cufile.hpp"
#include "tilestream/io/direct_file.hpp"

namespace tilestream::cuda {
namespace {

// Copies each back-to-back run of the task from `base` (where the task's first byte landed in pinned
// memory) to its place in the device tile buffer (a part of a tile to where it lies in its slot).
void copy_runs(const slide::TileReadTask& task, std::size_t tile_bytes, const std::byte* base, TransferSlot& slot,
               const Stream& stream) {
  for (const slide::TileRun& run : task.runs) {
    copy_to_device(slot.tiles, {base + (run.file_offset - task.offset), run.bytes}, stream,
                   run.first * tile_bytes + run.skip);
  }
}

class PosixTransfer final : public TileTransfer {
 public:
  explicit PosixTransfer(const io::ByteSource& source) : source_(source) {}
  void transfer(const slide::TileReadTask& task, std::size_t tile_bytes, TransferSlot& slot,
                const Stream& stream) const override {
    check<UsageError>(task.length <= slot.staging.size(), "posix transfer: a task of ", task.length,
                      " bytes does not fit a staging buffer of ", slot.staging.size());
    source_.read_exact(task.offset, {slot.staging.data(), task.length});
    copy_runs(task, tile_bytes, slot.staging.data(), slot, stream);
  }

 private:
  const io::ByteSource& source_;
};

class DirectTransfer final : public TileTransfer {
 public:
  explicit DirectTransfer(const std::string& path) : file_(path) {
    check<UnsupportedError>(file_.alignment() <= staging_slack, path, ": O_DIRECT wants ", file_.alignment(),
                            "-byte alignment, more than the ", staging_slack, " bytes the staging buffers allow");
  }
  void transfer(const slide::TileReadTask& task, std::size_t tile_bytes, TransferSlot& slot,
                const Stream& stream) const override {
    const std::span<const std::byte> bytes = file_.read_covering(task.offset, task.length, slot.staging.bytes());
    copy_runs(task, tile_bytes, bytes.data(), slot, stream);
  }
  std::size_t bytes_read(const slide::TileReadTask& task) const override {
    return io::aligned_cover(task.offset, task.length, file_.alignment()).length;
  }

 private:
  io::DirectReadFile file_;
};

class GdsTransfer final : public TileTransfer {
 public:
  explicit GdsTransfer(const std::string& path) : file_(path, io::gds::FileHandle::Mode::read) {}
  void transfer(const slide::TileReadTask& task, std::size_t tile_bytes, TransferSlot& slot,
                const Stream& stream) const override {
    // cuFile writes device memory outside the stream: the slot's earlier kernels reading `tiles`
    // have finished (the caller waited for slot.done), and the next ones are queued after this returns.
    (void)stream;
    for (const slide::TileRun& run : task.runs) {
      const std::size_t bytes = run.bytes;
      const std::size_t got = file_.read(slot.tiles.data(), bytes, run.file_offset, run.first * tile_bytes + run.skip);
      check<IoError>(got == bytes, file_.path(), ": cuFile read of ", bytes, " bytes at offset ", run.file_offset,
                     " returned ", got, " bytes (the file ends early)");
    }
  }

 private:
  io::gds::FileHandle file_;
};

}  // namespace

std::unique_ptr<TileTransfer> make_tile_transfer(io::IoMode mode, const io::ByteSource& source,
                                                 const std::string& path) {
  switch (mode) {
    case io::IoMode::posix: return std::make_unique<PosixTransfer>(source);
    case io::IoMode::direct: return std::make_unique<DirectTransfer>(path);
    case io::IoMode::gds: return std::make_unique<GdsTransfer>(path);
    case io::IoMode::automatic: break;
  }
  throw UsageError("make_tile_transfer: resolve the io mode first");
}

}  // namespace tilestream::cuda
