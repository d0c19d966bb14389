// write_zarr_blocks: blocks cut on the GPU, then streamed through pinned pieces into the store's
// streaming write, written with cuFile into the value's file, or encoded on the CPU; see the header.
#include "tilestream/cuda/zarr_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/core/parallel.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/core/work_queue.hpp"
#include "tilestream/io/cufile.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/image_kernels.hpp"
#include "tilestream/cuda/memory.hpp"

namespace tilestream::cuda {
namespace {

using Clock = std::chrono::steady_clock;

// One writing thread: its stream, the device block it cuts into, pinned pieces (raw posix) or a
// pinned block (encoded path), and the cuFile registration of the device block (gds). The stream is
// declared first so that the device block, which frees on it, goes before it; the registration is
// declared after the block so that it ends first.
struct Worker {
  Stream stream;
  DeviceBuffer block;
  std::shared_ptr<io::gds::RegisteredBuffer> registration;
  std::array<PinnedBuffer, 2> pieces;
  std::array<Event, 2> copied;
  PinnedBuffer host_block;
};

// The io mode of the blocks: gds only for raw blocks and a store whose values are files (cuFile
// writes into the value's file); anything else is written from pinned memory.
std::pair<io::IoMode, std::string> resolve_write_io(io::IoMode wanted, bool raw, const zarr::Store& store) {
  if (!raw) {
    return {io::IoMode::posix,
            wanted == io::IoMode::posix || wanted == io::IoMode::automatic
                ? std::string("posix: blocks copied to pinned memory, encoded and written on CPU threads")
                : concat("posix, not ", io::to_string(wanted),
                         ": compressed, sharded or transposed blocks are encoded on CPU threads")};
  }
  switch (wanted) {
    case io::IoMode::posix:
      return {wanted, "posix: blocks copied to pinned pieces on one stream per thread, written with pwrite"};
    case io::IoMode::direct:
      throw UsageError("--io direct is for reads; Zarr writes from the GPU use posix or gds");
    case io::IoMode::gds: {
      check<UsageError>(store.values_are_files(), "--io gds writes into files, and the values of store ",
                        store.name(), " are not files; use posix");
      const io::gds::DriverInfo& info = io::gds::driver();
      return {wanted, concat("gds: cuFileWrite from device memory, ", info.mode)};
    }
    case io::IoMode::automatic: {
      if (!store.values_are_files())
        return {io::IoMode::posix,
                concat("posix: the values of store ", store.name(),
                       " are not files (no cuFile writes); pinned pieces written to the store")};
      const io::gds::AutoChoice choice = io::gds::choose_for_auto();
      if (choice.gds) return {io::IoMode::gds, choice.reason};
      return {io::IoMode::posix, concat(choice.reason, ": pinned pieces written with pwrite")};
    }
  }
  throw UsageError("unknown io mode");
}

}  // namespace


ZarrWriteReport write_zarr_blocks(const DeviceImage& image, zarr::Store& store, const zarr::ArrayWriter& writer,
                                  const ZarrWriteOptions& options) {
  const zarr::ArraySpec& spec = writer.spec();
  const std::size_t ay = options.channels_first ? 1 : 0, ax = options.channels_first ? 2 : 1,
                    ac = options.channels_first ? 0 : 2;
  check<UsageError>(spec.shape.size() == 3 && spec.shape[ay] == image.height() && spec.shape[ax] == image.width() &&
                        spec.shape[ac] == image.samples() && spec.dtype == image.dtype(),
                    store.name(), ": the array's shape and dtype do not match the ", image.height(), " x ",
                    image.width(), " x ", image.samples(), " ", to_string(image.dtype()), " device image");
  const auto& block_shape = spec.block_shape();
  check<UsageError>(block_shape[ac] == image.samples(), store.name(), ": blocks must hold every channel (",
                    block_shape[ac], " of ", image.samples(), ")");
  check<UsageError>(spec.fill_value == 0, store.name(), ": blocks are padded with 0, the array's fill value is ",
                    spec.fill_value);
  const DeviceGuard guard(image.device());
  const bool raw = zarr::stores_raw_blocks(spec);
  ZarrWriteReport report;
  std::tie(report.io, report.io_detail) =
      resolve_write_io(options.io.value_or(io::default_io_mode()), raw, store);

  const auto start = Clock::now();
  const std::size_t block_bytes = writer.encoder().block_bytes();
  const std::size_t piece_bytes = std::min(block_bytes, resolve_task_bytes(options.piece_bytes));
  const auto grid = spec.grid_shape();
  const std::uint64_t across = grid[ax];
  const std::uint64_t count = grid[ay] * across;
  const unsigned workers_wanted = static_cast<unsigned>(std::min<std::uint64_t>(resolve_threads(options.threads), count));
  std::vector<Worker> workers(workers_wanted);
  std::atomic<std::uint64_t> written{0}, skipped{0}, bytes{0};

  // The image's pixels were finished on some stream of the caller: wait for the device to be idle
  // once, so every worker stream sees them.
  check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  // Each worker sets itself up on its own thread, so that the workers pin their memory in parallel;
  // cuFile registrations are made here, on the calling thread (cuFileBufRegister on the workers'
  // threads failed on the device machine with CUDA_ERROR_INVALID_CONTEXT).
  const auto set_up = [&](Worker& w) {
    const DeviceGuard thread_guard(image.device());
    w.block = DeviceBuffer(block_bytes, w.stream);
    if (!raw) {
      w.host_block = PinnedBuffer(block_bytes);
    } else if (report.io == io::IoMode::gds) {
      w.registration = std::make_shared<io::gds::RegisteredBuffer>(w.block.data(), block_bytes);
    } else {
      for (PinnedBuffer& piece : w.pieces) piece = PinnedBuffer(piece_bytes);
    }
  };
  if (raw && report.io == io::IoMode::gds)
    for (Worker& w : workers) set_up(w);

  // A store that syncs on commit waits for the disk there: commits then run on a queue of their own
  // threads, so that the workers go on cutting and writing blocks. Declared after what its tasks use.
  std::optional<WorkQueue> commits;
  if (store.syncs_on_commit()) commits.emplace(workers_wanted);
  const auto commit = [&](std::unique_ptr<zarr::ValueWriter> value, std::uint64_t stored) {
    if (!commits) {
      value->commit();
      bytes += stored;
      ++written;
      return;
    }
    commits->post([&, value = std::shared_ptr<zarr::ValueWriter>(std::move(value)), stored] {
      try {
        value->commit();
      } catch (const Error& e) {
        rethrow_with_context(
            e, concat("writing block ", value->key(), " of ", store.name(), " from cuda:", image.device()));
      }
      bytes += stored;
      ++written;
    });
  };

  parallel_for_workers(count, workers_wanted, [&](std::size_t index, unsigned n) {
    Worker& w = workers[n];
    std::vector<std::uint64_t> coords(3, 0);
    coords[ay] = index / across;
    coords[ax] = index % across;
    const std::string key = writer.key(coords);
    try {
      if (options.skip_existing && store.exists(key)) {
        ++skipped;
        return;
      }
      if (w.block.size() == 0) set_up(w);
      const BlockBox box{coords[ay] * block_shape[ay], coords[ax] * block_shape[ax], block_shape[ay],
                         block_shape[ax], options.channels_first};
      cut_block(image, box, w.block.data(), w.stream);
      if (!raw) {
        copy_to_host(w.host_block.bytes(), w.block, w.stream);
        w.stream.synchronize();
        const std::vector<std::byte> encoded = writer.encoder().encode_block(w.host_block.bytes());
        std::unique_ptr<zarr::ValueWriter> value = store.begin(key, encoded.size());
        value->write(0, encoded);
        commit(std::move(value), encoded.size());
      } else if (report.io == io::IoMode::gds) {
        std::unique_ptr<zarr::ValueWriter> value = store.begin(key, block_bytes);
        check<UsageError>(value->file() != nullptr, "--io gds: the value is not a file");
        w.stream.synchronize();  // the block is cut before cuFile reads it
        {
          const io::gds::FileHandle file(*value->file(), io::gds::FileHandle::Mode::write);
          file.write(w.block.data(), block_bytes, 0);
        }  // closed before the commit
        commit(std::move(value), block_bytes);
      } else {
        std::unique_ptr<zarr::ValueWriter> value = store.begin(key, block_bytes);
        const std::size_t pieces = (block_bytes + piece_bytes - 1) / piece_bytes;
        auto queue_copy = [&](std::size_t p) {
          const std::size_t offset = p * piece_bytes;
          const std::size_t size = std::min(piece_bytes, block_bytes - offset);
          copy_to_host({w.pieces[p % 2].data(), size}, w.block, w.stream, offset);
          w.copied[p % 2].record(w.stream);
        };
        queue_copy(0);
        for (std::size_t p = 0; p < pieces; ++p) {
          w.copied[p % 2].synchronize();
          if (p + 1 < pieces) queue_copy(p + 1);  // the other piece buffer was written out last round
          const std::size_t offset = p * piece_bytes;
          value->write(offset, {w.pieces[p % 2].data(), std::min(piece_bytes, block_bytes - offset)});
        }
        commit(std::move(value), block_bytes);
      }
    } catch (const Error& e) {
      try {
        w.stream.synchronize();  // no copy may still write a pinned buffer once the error leaves
      } catch (...) {
      }
      rethrow_with_context(e, concat("writing block ", key, " of ", store.name(), " from cuda:", image.device()));
    }
  });
  report.write_seconds = seconds_since(start);
  if (commits) {
    // What durability adds after the last block was written: the commits still waiting for the disk.
    const auto fsync_start = Clock::now();
    commits->wait_posted();
    report.fsync_seconds = seconds_since(fsync_start);
  }
  report.blocks_written = written;
  report.blocks_skipped = skipped;
  report.bytes_written = bytes;
  return report;
}

}  // namespace tilestream::cuda
