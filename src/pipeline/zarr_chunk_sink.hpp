// The one block sink: every run of the executor (convert's levels, process's chain, on any backend)
// hands its finished blocks here. It pads each block (a chunk, or a shard) with fill 0, lays it out
// (y, x, c) or (c, y, x), encodes and stores it. Uncompressed, unsharded (y, x, c) arrays
// (zarr::stores_raw_blocks) take the raw path: the chunk's file is written in
// place, straight from the caller's pixels where they are already the chunk's bytes (whole rows,
// packed) and through a per-thread buffer that adds the padding otherwise; no copy of the whole chunk
// is made. write() cuts a chunk into row pieces of the settings' task size written on a shared
// WorkQueue of writer threads; begin_rows() writes each band on the caller's thread as it comes
// (backends that stream bands keep their own threads busy). Other arrays are gathered into a block,
// encoded on the calling thread and put through the store. Progress is counted for on_progress.
// Raw chunks are written with the store's streaming write (zarr::Store::begin). With a store that
// syncs on commit, raw chunks are committed on a commit queue of `writers` threads, so that the chunk
// workers do not wait for the disk; flush() waits for them.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "tilestream/core/work_queue.hpp"
#include "tilestream/pipeline/backend.hpp"
#include "tilestream/pipeline/pipeline.hpp"
#include "tilestream/zarr/array.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::pipeline {

class ZarrChunkSink final : public ChunkSink {
 public:
  // `writer` writes to `store`; the plan's chunk is the array's block (the shard when sharded), the
  // image laid into it as `layout` says. `writers`: threads of the raw path; `piece_bytes`: bytes per
  // write (0: the settings' task size).
  // `device_writers` (Backend::device_file_writers): raw chunks whose bands come in device memory are
  // written from there into their files; empty: host bands only.
  ZarrChunkSink(zarr::Store& store, const zarr::ArrayWriter& writer, const ChunkPlan& plan, Layout layout,
                unsigned writers, std::size_t piece_bytes,
                const std::function<void(const ProcessProgress&)>& on_progress,
                DeviceFileWriters device_writers = {});

  // Thread-safe. Returns once the chunk's file is written (the pixels may then be reused) and, but for
  // raw chunks of a store that syncs on commit (see flush()), in place; IoError and the like name the chunk's
  // key, and a failed chunk leaves no file under it.
  void write(const ChunkTask& task, const ops::ConstTileView& pixels) override;
  std::unique_ptr<ChunkRows> begin_rows(const ChunkTask& task) override;
  // Encoded paths whose chunk is one compressor's output (not sharded, one compressor, no transpose
  // codec) take blocks encoded on the GPU.
  std::optional<DeviceBlockFormat> device_block_format(std::string* why_not = nullptr) const override;
  void begin_encoded(const ChunkTask& task) override;
  void store_encoded(const ChunkTask& task, std::span<const std::byte> encoded) override;

  // Waits for every chunk handed over to be committed, and rethrows the first
  // error of the commit queue, naming its chunk. Call it before the run counts as done.
  void flush();

  // Asked before each chunk is begun (RunOptions::stop); true makes begin_rows and write throw
  // StoppedError. Set before the first chunk.
  void stop_when(std::function<bool()> stop) { stop_ = std::move(stop); }

  bool raw() const { return raw_; }
  // Chunks stored with at least one band written from device memory.
  std::uint64_t blocks_from_device() const { return from_device_.load(); }
  // The block's coordinates in the array's grid, in the layout's axis order.
  std::array<std::uint64_t, 3> block_coords(const ChunkTask& task) const;
  ProcessProgress snapshot() const { return {done_.load(), plan_.tasks.size(), bytes_.load()}; }
  // Calls on_progress at most every 200 ms (always when `final`), one call at a time.
  void report(bool final);

 private:
  class Rows;
  class RawRows;
  class BufferedRows;
  // StoppedError naming the chunk when stop_ says so.
  void check_stop(const ChunkTask& task) const;
  // Counts a stored chunk of `bytes` and reports progress.
  void stored(std::uint64_t bytes);

  zarr::Store& store_;
  const zarr::ArrayWriter& writer_;
  const ChunkPlan& plan_;
  const Layout layout_;
  const bool raw_;
  const std::size_t piece_bytes_;
  WorkQueue queue_;
  const std::function<void(const ProcessProgress&)> on_progress_;  // a copy: callers may pass a temporary
  const DeviceFileWriters device_writers_;
  std::function<bool()> stop_;
  std::atomic<std::uint64_t> done_{0}, bytes_{0}, from_device_{0};
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  // Raw chunks of a store that syncs on commit. Declared last: its destructor runs the commits still queued,
  // which count their chunks in the members above.
  std::optional<WorkQueue> commits_;
};

}  // namespace tilestream::pipeline
