// The io backends of the raw-tile device read path, behind one interface chosen when a read starts:
// each moves one task's tiles (slide/tile_read_plan.hpp) from the file into a slot's device tile
// buffer, tile i of the task at i * tile_bytes, queuing any copy on the slot's stream.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/stream.hpp"
#include "tilestream/io/file.hpp"
#include "tilestream/io/io_mode.hpp"
#include "tilestream/slide/tile_read_plan.hpp"

namespace tilestream::cuda {

// One staging slot of a reading thread. `tiles` is declared before `registration` (gds) so that the
// registration ends before the memory goes; the slot's stream must outlive it (DeviceBuffer frees on it).
struct TransferSlot {
  DeviceBuffer tiles;      // capacity bytes on the device
  PinnedBuffer staging;    // capacity + 2 * staging_slack bytes, page-aligned (posix, direct)
  std::shared_ptr<void> registration;  // gds: the cuFile registration of `tiles`
  Event done;              // recorded after the task's last work on the stream
  bool pending = false;
};

// Room past a task's bytes in a staging buffer, for O_DIRECT reads widened to the file's alignment.
inline constexpr std::size_t staging_slack = 64 * 1024;

class TileTransfer {
 public:
  virtual ~TileTransfer() = default;
  // Brings every tile of `task` into slot.tiles; thread-safe across slots.
  virtual void transfer(const slide::TileReadTask& task, std::size_t tile_bytes, TransferSlot& slot,
                        const Stream& stream) const = 0;
  // Bytes actually read from the file for `task` (O_DIRECT widens reads to the alignment).
  virtual std::size_t bytes_read(const slide::TileReadTask& task) const { return task.length; }
};

// posix: `source` (the slide's open file); direct and gds open `path` themselves.
std::unique_ptr<TileTransfer> make_tile_transfer(io::IoMode mode, const io::ByteSource& source,
                                                 const std::string& path);

// Whether mode needs pinned staging buffers (gds reads straight into device memory).
inline bool uses_staging(io::IoMode mode) { return mode != io::IoMode::gds; }

}  // namespace tilestream::cuda
