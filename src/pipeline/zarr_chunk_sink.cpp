// ZarrChunkSink: the raw path writes row pieces of a chunk's file in place on the writer queue; the
// encoded path pads, encodes and puts.
#include "pipeline/zarr_chunk_sink.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/zarr/partial_file.hpp"

namespace tilestream::pipeline {

using Clock = std::chrono::steady_clock;

ZarrChunkSink::ZarrChunkSink(zarr::FileStore& store, const zarr::ArrayWriter& writer, const ChunkPlan& plan,
                             unsigned writers, std::size_t piece_bytes,
                             const std::function<void(const ProcessProgress&)>& on_progress)
    : store_(store),
      writer_(writer),
      plan_(plan),
      raw_(zarr::stores_raw_blocks(writer.spec())),
      piece_bytes_(resolve_task_bytes(piece_bytes)),
      // The encoded path writes on its callers' threads and starts none.
      queue_(raw_ ? writers : 1),
      on_progress_(on_progress) {
  check<UsageError>(writer.spec().fill_value == 0, store.name(), ": chunks are padded with 0, the array's fill is ",
                    writer.spec().fill_value);
}

void ZarrChunkSink::write(const ChunkTask& task, const ops::ConstTileView& pixels) {
  check<UsageError>(pixels.box == task.out, "chunk (", task.row, ", ", task.col, "): pixels of another box");
  const std::uint64_t coords[3] = {task.row, task.col, 0};
  const std::string key = writer_.key(coords);
  try {
    bytes_ += raw_ ? write_raw(key, task, pixels) : write_encoded(coords, task, pixels);
  } catch (const Error& e) {
    rethrow_with_context(e, concat("writing chunk ", key, " of ", store_.name()));
  }
  ++done_;
  report(false);
}

std::size_t ZarrChunkSink::write_raw(const std::string& key, const ChunkTask& task, const ops::ConstTileView& pixels) {
  const std::size_t pixel = plan_.output.pixel_bytes();
  const std::size_t chunk_row = plan_.chunk_width * pixel;
  const std::size_t data_row = task.out.width * pixel;
  const std::uint64_t rows = plan_.chunk_height;
  const std::uint64_t rows_per_piece = std::max<std::uint64_t>(1, piece_bytes_ / chunk_row);
  // The pixels are the chunk file's bytes as they are when their rows are whole and packed.
  const bool packed = task.out.width == plan_.chunk_width && pixels.row_stride == chunk_row;

  zarr::PartialFile file(store_.partial_file_for(key));
  std::vector<std::function<void()>> pieces;
  for (std::uint64_t first = 0; first < rows; first += rows_per_piece) {
    const std::uint64_t end = std::min(rows, first + rows_per_piece);
    pieces.emplace_back([&, first, end] {
      const std::uint64_t offset = first * chunk_row;
      if (packed && end <= task.out.height) {
        file.write_at(offset, {pixels.data + first * pixels.row_stride, (end - first) * chunk_row});
        return;
      }
      // Padded rows: the writer thread's own buffer, kept for its next padded piece.
      thread_local std::vector<std::byte> padded;
      padded.resize((end - first) * chunk_row);
      for (std::uint64_t y = first; y < end; ++y) {
        std::byte* row = padded.data() + (y - first) * chunk_row;
        const std::size_t copied = y < task.out.height ? data_row : 0;
        if (copied > 0) std::memcpy(row, pixels.data + y * pixels.row_stride, copied);
        std::memset(row + copied, 0, chunk_row - copied);
      }
      file.write_at(offset, padded);
    });
  }
  queue_.run_all(std::move(pieces));
  file.close();
  store_.commit_file(file.path(), key);
  file.committed();
  return rows * chunk_row;
}

std::size_t ZarrChunkSink::write_encoded(const std::uint64_t (&coords)[3], const ChunkTask& task,
                                         const ops::ConstTileView& pixels) const {
  const std::size_t pixel = plan_.output.pixel_bytes();
  const std::size_t row = plan_.chunk_width * pixel;
  std::vector<std::byte> block(plan_.chunk_bytes(), std::byte{0});
  for (std::uint64_t y = 0; y < task.out.height; ++y)
    std::memcpy(block.data() + y * row, pixels.data + y * pixels.row_stride, task.out.width * pixel);
  const std::vector<std::byte> encoded = writer_.encoder().encode_block(block);
  writer_.store_block(coords, encoded);
  return encoded.size();
}

void ZarrChunkSink::report(bool final) {
  if (!on_progress_) return;
  std::unique_lock lock(mutex_, std::defer_lock);
  if (final) {
    lock.lock();
  } else if (!lock.try_lock() || Clock::now() - last_ < std::chrono::milliseconds(200)) {
    return;
  }
  last_ = Clock::now();
  on_progress_(snapshot());
}

}  // namespace tilestream::pipeline
