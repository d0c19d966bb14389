// Where the ops of a processing run execute. The pipeline (pipeline.hpp) plans the chunks, prepares
// the Zarr array and hands each finished chunk's pixels to a ChunkSink; a Backend produces those
// pixels, in global mode (the whole level in memory, each op applied to the whole image) or in tiled
// mode (each chunk's source box read, processed and handed over, a bounded number at a time). The CPU
// backend is here; a device backend implements the same two calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "tilestream/codec/decode_mode.hpp"
#include "tilestream/core/memory_budget.hpp"
#include "tilestream/ops/chain.hpp"
#include "tilestream/pipeline/plan.hpp"
#include "tilestream/pipeline/source.hpp"
#include "tilestream/zarr/array.hpp"

namespace tilestream::pipeline {

// Rows of a block's box in device memory, `row_stride` bytes apart.
struct DeviceRows {
  const std::byte* data = nullptr;
  std::size_t row_stride = 0;
  ops::Box box;
};

// A file opened for writes from device memory (GPUDirect Storage: cuFile), the file's other bytes
// kept. Closed by destruction, which must come before the value's commit.
class DeviceFileWriter {
 public:
  virtual ~DeviceFileWriter() = default;
  // Writes `bytes` bytes of device memory at `device` at `offset` of the file.
  virtual void write(std::uint64_t offset, const std::byte* device, std::size_t bytes) = 0;
};
// Opens the file at `path` (a store value's, zarr::ValueWriter::file()) for device writes.
using DeviceFileWriters = std::function<std::unique_ptr<DeviceFileWriter>(const std::string& path)>;

// One output chunk handed over in bands of whole rows, for backends that produce or download a chunk
// piece by piece (a few pinned megabytes in flight instead of the whole chunk). Destroyed without
// finish(), it stores nothing.
class ChunkRows {
 public:
  virtual ~ChunkRows() = default;
  // `rows` covers rows of task.out across its full width, interleaved (y, x, c), host memory; the
  // call returns once they are stored or copied (the memory may then be reused). Bands may come in
  // any order and, for distinct rows, from several threads.
  virtual void write_rows(const ops::ConstTileView& rows) = 0;
  // Whether write_device_rows takes this chunk's bands: the raw path of a sink given device file
  // writers (the run's io writes from device memory), into a value that is a file.
  virtual bool takes_device_rows() const { return false; }
  // Rows as write_rows takes them, but in device memory, packed whole rows of the block
  // (row_stride = the block's row bytes); written straight from there. UsageError where
  // takes_device_rows() is false or the rows are not packed whole rows.
  virtual void write_device_rows(const DeviceRows& rows);
  // Once every row of task.out was written: pads the chunk and stores it under its key. UsageError
  // when rows are missing.
  virtual void finish() = 0;
};

// What a block encoded away from the sink (on the GPU) must hold: the plan's chunk, padded with
// zeros to chunk_height x chunk_width, laid out as `layout` says ((y, x, c) interleaved, or (c, y, x)
// planes), then compressed by `compressor` alone.
struct DeviceBlockFormat {
  Layout layout = Layout::yxc;
  std::uint64_t chunk_height = 0;
  std::uint64_t chunk_width = 0;
  std::uint32_t samples = 1;
  DType dtype = DType::uint8;
  zarr::CompressorSpec compressor;
  std::size_t block_bytes() const {
    return static_cast<std::size_t>(chunk_height * chunk_width) * samples * bytes_per_sample(dtype);
  }
};

// Receives finished output chunks: pads them to the Zarr chunk, encodes and stores them.
// Thread-safe: workers call write() and begin_rows() concurrently.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  // `pixels` covers exactly task.out of the output image, interleaved (y, x, c), host memory.
  virtual void write(const ChunkTask& task, const ops::ConstTileView& pixels) = 0;
  // The same chunk handed over in bands (ChunkRows).
  virtual std::unique_ptr<ChunkRows> begin_rows(const ChunkTask& task) = 0;
  // Whether a backend may encode this sink's blocks itself (a block is one chunk compressed by one
  // compressor: not sharded, not the raw path, no checksum or transpose codec) and what they hold;
  // nullopt otherwise, with the reason in `why_not` where given (left empty where the blocks are not
  // compressed at all: raw chunks written in place). This default takes host pixels only.
  virtual std::optional<DeviceBlockFormat> device_block_format(std::string* why_not = nullptr) const;
  // Before a backend makes a block it will encode itself: StoppedError where the run was asked to
  // stop (as begin_rows throws it).
  virtual void begin_encoded(const ChunkTask& task);
  // Stores a block encoded as device_block_format says, under the task's key; counted like the others.
  virtual void store_encoded(const ChunkTask& task, std::span<const std::byte> encoded);
};

// What one run of a backend measured: returned by run_global and run_tiled, read by process_slide and
// the front ends (nothing is left in the backend to be read back later).
struct BackendReport {
  std::string io = "posix";           // the io mode the level's reads ran
  std::string io_detail;              // why that mode, and how the run went
  codec::DecodeReport decode;  // the level's reads' decoding, added up (no decoder: raw tiles, arrays)
  // Who compressed the chunks: "nvCOMP (GPU)" or "CPU" (empty: nothing to compress), why, and the
  // blocks the GPU encoded.
  std::string encoder;
  std::string encode_detail;
  std::uint64_t blocks_gpu_encoded = 0;
  std::size_t peak_device_bytes = 0;  // device backends: the device memory held at most during the run
  std::size_t bytes_held = 0;         // global mode: the most bytes of images held at once
  // Busy seconds per stage summed over the threads that did it (in tiled mode the stages of different
  // chunks overlap, so the sum can exceed the run's wall time). Where a backend interleaves the chain
  // with copying a chunk out band by band (the device backend in tiled mode), the chain's time is
  // counted in write_seconds and compute_seconds stays 0.
  double read_seconds = 0;
  double compute_seconds = 0;
  double write_seconds = 0;
  // Wall seconds to hand every block to the sink: in global mode from the result being ready (the
  // source read and the chain run) to the last block handed over; in tiled mode the whole run.
  double store_seconds = 0;
};

// What a backend runs: the chain on one source (a slide level, or an array written earlier in the
// run), block by block as planned.
struct Job {
  const Source& source;
  const ops::Chain& chain;
  const ChunkPlan& plan;
  unsigned threads;  // CPU threads for loops over bands or chunks
  unsigned workers;  // tiled mode: chunks in flight at once (set by the memory budget)
  // Tiled mode: tasks one worker takes at once, at most (Backend::tiled_group, lowered to fit the
  // memory budget): adjacent blocks of a row, which a backend may read as one box and encode together.
  unsigned group = 1;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // "cpu"
  // Global mode: reads the whole source, applies each op to the whole image in turn, then hands every
  // planned chunk of the result to `sink`. The report's bytes_held is the most bytes of images it held.
  virtual BackendReport run_global(const Job& job, ChunkSink& sink) const = 0;
  // Tiled mode: for each planned task, reads task.in from the source, runs the chain and hands the
  // result to `sink`, with at most job.workers tasks in flight.
  virtual BackendReport run_tiled(const Job& job, ChunkSink& sink) const = 0;
  // Tiled mode: the most bytes one task in flight holds (the memory budget divided by it sets
  // job.workers), for a level whose stored tiles hold `tile_bytes` decoded. This default is the CPU
  // backend's: the task's source tiles, the chain's intermediates and its output chunk
  // (plan.max_task_bytes), its padded or encoded chunk, and one decoded tile of the reader.
  virtual std::size_t tiled_task_bytes(const ChunkPlan& plan, const ops::Chain& chain, std::size_t tile_bytes) const {
    (void)chain;
    return plan.max_task_bytes + plan.chunk_bytes() + tile_bytes;
  }
  // Tiled mode: how many adjacent tasks of a row one worker would take at once (each holding
  // tiled_task_bytes); the executor lowers it to what the memory budget holds beside job.workers.
  // This default, the CPU backend's, is one: its decoders gain nothing from larger reads.
  virtual unsigned tiled_group() const { return 1; }
  // Global mode: the most bytes of images run_global holds at once (in memory_available()'s kind of
  // memory), checked before anything is read or written. This default is the CPU backend's: the
  // level, then op by op the whole image in and the whole image out. Saturates instead of overflowing.
  virtual std::uint64_t global_bytes(const ChunkPlan& plan, const ops::Chain& chain) const;
  // The memory its images and tiles live in, available now: this default is host memory
  // (core/memory_budget.hpp); a device backend reports its device's.
  virtual MemoryAvailable memory_available() const { return available_host_memory(); }
  // How the run writes blocks from device memory, where its io mode does (the CUDA backend with
  // gds); empty (the default): blocks reach the sink in host memory.
  virtual DeviceFileWriters device_file_writers() const { return {}; }
};

// Ops on the CPU (Op::run_cpu), sources read with Source::read.
std::unique_ptr<Backend> make_cpu_backend();

}  // namespace tilestream::pipeline
