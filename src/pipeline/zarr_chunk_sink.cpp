// ZarrChunkSink: a whole chunk and a chunk in bands go through the same ChunkRows; the raw path writes
// rows in place, the encoded path gathers, pads, encodes and puts.
#include "pipeline/zarr_chunk_sink.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"

namespace tilestream::pipeline {

using Clock = std::chrono::steady_clock;

ZarrChunkSink::ZarrChunkSink(zarr::Store& store, const zarr::ArrayWriter& writer, const ChunkPlan& plan,
                             Layout layout, unsigned writers, std::size_t piece_bytes,
                             const std::function<void(const ProcessProgress&)>& on_progress,
                             DeviceFileWriters device_writers)
    : store_(store),
      writer_(writer),
      plan_(plan),
      layout_(layout),
      // (c, y, x) blocks of several samples are gathered and transposed (BufferedRows).
      raw_(zarr::stores_raw_blocks(writer.spec()) && (layout == Layout::yxc || plan.output.samples == 1)),
      piece_bytes_(resolve_task_bytes(piece_bytes)),
      // The encoded path writes on its callers' threads and starts none.
      queue_(raw_ ? writers : 1),
      on_progress_(on_progress),
      device_writers_(std::move(device_writers)) {
  if (raw_ && store.syncs_on_commit()) commits_.emplace(writers);
  check<UsageError>(writer.spec().fill_value == 0, store.name(),
                    ": chunks are padded with 0, the array's fill is ", writer.spec().fill_value);
  const AxisOrder axes = axis_order(layout);
  const std::vector<std::uint64_t>& block = writer.spec().block_shape();
  check<UsageError>(block.size() == 3 && block[axes.y] == plan.chunk_height && block[axes.x] == plan.chunk_width &&
                        block[axes.c] == plan.output.samples,
                    store.name(), ": blocks of the plan (", plan.chunk_height, " x ", plan.chunk_width, " x ",
                    plan.output.samples, ") are not the array's");
}

std::array<std::uint64_t, 3> ZarrChunkSink::block_coords(const ChunkTask& task) const {
  return pipeline::block_coords(task, layout_);
}

void ZarrChunkSink::write(const ChunkTask& task, const ops::ConstTileView& pixels) {
  check<UsageError>(pixels.box == task.out, "chunk (", task.row, ", ", task.col, "): pixels of another box");
  const std::unique_ptr<ChunkRows> rows = begin_rows(task);
  if (raw_) {
    // Row pieces written side by side on the writer queue.
    const std::uint64_t rows_per_piece =
        std::max<std::uint64_t>(1, piece_bytes_ / (plan_.chunk_width * plan_.output.pixel_bytes()));
    std::vector<std::function<void()>> pieces;
    for (std::uint64_t first = 0; first < task.out.height; first += rows_per_piece) {
      const ops::Box box{task.out.y + first, task.out.x, std::min(rows_per_piece, task.out.height - first),
                         task.out.width};
      pieces.emplace_back([&, box, first] {
        rows->write_rows({pixels.data + first * pixels.row_stride, pixels.row_stride, box});
      });
    }
    queue_.run_all(std::move(pieces));
  } else {
    rows->write_rows(pixels);
  }
  rows->finish();
}

void ZarrChunkSink::stored(std::uint64_t bytes) {
  bytes_ += bytes;
  ++done_;
  report(false);
}

namespace {

// Rows `first` to `end` (relative to the chunk) of a chunk's value at its offset: the band's rows where
// `rows` holds them packed and whole, else copied with their padding into the writer thread's buffer.
// Rows below the image (first >= rows.box.height relative) are zeros.
void write_chunk_rows(zarr::ValueWriter& value, const ops::ConstTileView& rows, std::uint64_t chunk_top,
                      std::uint64_t image_bottom, std::size_t chunk_row, std::size_t data_row,
                      std::uint64_t first, std::uint64_t end) {
  const std::uint64_t offset = first * chunk_row;
  const auto row_of = [&](std::uint64_t y) {
    return rows.data + (chunk_top + y - rows.box.y) * rows.row_stride;
  };
  if (data_row == chunk_row && rows.row_stride == chunk_row && chunk_top + end <= image_bottom) {
    value.write(offset, {row_of(first), (end - first) * chunk_row});
    return;
  }
  thread_local std::vector<std::byte> padded;  // kept for the thread's next padded piece
  padded.resize((end - first) * chunk_row);
  for (std::uint64_t y = first; y < end; ++y) {
    std::byte* row = padded.data() + (y - first) * chunk_row;
    const std::size_t copied = chunk_top + y < image_bottom ? data_row : 0;
    if (copied > 0) std::memcpy(row, row_of(y), copied);
    std::memset(row + copied, 0, chunk_row - copied);
  }
  value.write(offset, padded);
}

}  // namespace

// What both paths' bands share: the band's box checked, its rows counted, the chunk's key in every
// error, and the chunk counted once stored.
class ZarrChunkSink::Rows : public ChunkRows {
 public:
  Rows(ZarrChunkSink& sink, const ChunkTask& task)
      : sink_(sink),
        task_(task),
        key_(sink.writer_.key(sink.block_coords(task))) {}

  void write_rows(const ops::ConstTileView& rows) final {
    try {
      check<UsageError>(rows.box.x == task_.out.x && rows.box.width == task_.out.width &&
                            rows.box.y >= task_.out.y &&
                            rows.box.y + rows.box.height <= task_.out.y + task_.out.height,
                        "rows of another box");
      put(rows);
      rows_written_ += rows.box.height;
    } catch (const Error& e) {
      rethrow_with_context(e, concat("writing chunk ", key_, " of ", sink_.store_.name()));
    }
  }

  void write_device_rows(const DeviceRows& rows) final {
    try {
      check<UsageError>(takes_device_rows(), "rows in device memory for a chunk that takes host rows only");
      check<UsageError>(rows.box.x == task_.out.x && rows.box.width == sink_.plan_.chunk_width &&
                            rows.row_stride == chunk_row_bytes() && rows.box.y >= task_.out.y &&
                            rows.box.y + rows.box.height <= task_.out.y + task_.out.height,
                        "device rows that are not packed whole rows of the chunk");
      put_device(rows);
      rows_written_ += rows.box.height;
    } catch (const Error& e) {
      rethrow_with_context(e, concat("writing chunk ", key_, " of ", sink_.store_.name(), " from device memory"));
    }
  }

  void finish() final {
    std::optional<std::uint64_t> bytes;
    try {
      check<UsageError>(rows_written_ == task_.out.height, rows_written_, " of ", task_.out.height,
                        " rows written");
      bytes = complete();
    } catch (const Error& e) {
      rethrow_with_context(e, concat("writing chunk ", key_, " of ", sink_.store_.name()));
    }
    if (bytes) sink_.stored(*bytes);
  }

 protected:
  // Stores or gathers one checked band.
  virtual void put(const ops::ConstTileView& rows) = 0;
  // Stores one checked band of device memory (only where takes_device_rows()).
  virtual void put_device(const DeviceRows& /*rows*/) {}
  // Pads and stores the chunk once every row came; returns the bytes stored, or nullopt where a
  // task posted to the sink's commit queue stores it (and counts it) later.
  virtual std::optional<std::uint64_t> complete() = 0;

  std::size_t pixel_bytes() const { return sink_.plan_.output.pixel_bytes(); }
  std::size_t chunk_row_bytes() const { return sink_.plan_.chunk_width * pixel_bytes(); }

  ZarrChunkSink& sink_;
  const ChunkTask task_;
  const std::string key_;

 private:
  std::atomic<std::uint64_t> rows_written_{0};
};

// The raw path's bands: each written in place at once through the store's streaming write;
// complete() writes the zero rows below the image and commits the value.
class ZarrChunkSink::RawRows final : public Rows {
 public:
  RawRows(ZarrChunkSink& sink, const ChunkTask& task)
      : Rows(sink, task), value_(sink.store_.begin(key_, sink.plan_.chunk_bytes())) {}

  bool takes_device_rows() const override {
    return sink_.device_writers_ && value_ != nullptr && value_->file() != nullptr;
  }

 private:
  void put_device(const DeviceRows& rows) override {
    if (!device_file_) device_file_ = sink_.device_writers_(*value_->file());  // once per chunk
    device_file_->write((rows.box.y - task_.out.y) * chunk_row_bytes(), rows.data, rows.box.height * chunk_row_bytes());
    from_device_ = true;
  }

  void put(const ops::ConstTileView& rows) override {
    const std::uint64_t first = rows.box.y - task_.out.y;
    write_chunk_rows(*value_, rows, task_.out.y, task_.out.y + task_.out.height, chunk_row_bytes(),
                     task_.out.width * pixel_bytes(), first, first + rows.box.height);
  }

  std::optional<std::uint64_t> complete() override {
    device_file_.reset();  // its writes done and its descriptor closed before the commit
    if (from_device_) ++sink_.from_device_;
    const std::uint64_t rows_per_piece = std::max<std::uint64_t>(1, sink_.piece_bytes_ / chunk_row_bytes());
    for (std::uint64_t y = task_.out.height; y < sink_.plan_.chunk_height; y += rows_per_piece) {
      write_chunk_rows(*value_, {}, task_.out.y, task_.out.y + task_.out.height, chunk_row_bytes(),
                       task_.out.width * pixel_bytes(), y,
                       std::min(sink_.plan_.chunk_height, y + rows_per_piece));
    }
    if (!sink_.commits_) {
      value_->commit();
      return sink_.plan_.chunk_bytes();
    }
    // Durable output: the commit waits for the disk, so it runs on the commit queue and the caller
    // goes on with its next chunk; a chunk whose commit is skipped after an error is abandoned.
    sink_.commits_->post(
        [value = std::shared_ptr<zarr::ValueWriter>(std::move(value_)), &sink = sink_, key = key_] {
          try {
            value->commit();
          } catch (const Error& e) {
            rethrow_with_context(e, concat("writing chunk ", key, " of ", sink.store_.name()));
          }
          sink.stored(sink.plan_.chunk_bytes());
        });
    return std::nullopt;
  }

  std::unique_ptr<zarr::ValueWriter> value_;
  std::unique_ptr<DeviceFileWriter> device_file_;  // after value_: closed before the value goes
  bool from_device_ = false;
};

// The encoded path's bands: gathered into the padded block, encoded and stored by complete().
class ZarrChunkSink::BufferedRows final : public Rows {
 public:
  BufferedRows(ZarrChunkSink& sink, const ChunkTask& task)
      : Rows(sink, task), block_(sink.plan_.chunk_bytes(), std::byte{0}) {}

 private:
  void put(const ops::ConstTileView& rows) override {
    const std::uint64_t first = rows.box.y - task_.out.y;
    if (sink_.layout_ == Layout::yxc || sink_.plan_.output.samples == 1) {
      for (std::uint64_t y = 0; y < rows.box.height; ++y) {
        std::memcpy(block_.data() + (first + y) * chunk_row_bytes(), rows.data + y * rows.row_stride,
                    task_.out.width * pixel_bytes());
      }
      return;
    }
    switch (bytes_per_sample(sink_.plan_.output.dtype)) {
      case 1: return put_planes<1>(rows, first);
      case 2: return put_planes<2>(rows, first);
      default: return put_planes<4>(rows, first);
    }
  }

  // (y, x, c) rows into the block's (c, y, x) planes, for samples of `Size` bytes.
  template <std::size_t Size>
  void put_planes(const ops::ConstTileView& rows, std::uint64_t first) {
    const std::uint32_t samples = sink_.plan_.output.samples;
    const std::uint64_t plane = sink_.plan_.chunk_height * sink_.plan_.chunk_width * Size;
    for (std::uint32_t c = 0; c < samples; ++c)
      for (std::uint64_t y = 0; y < rows.box.height; ++y) {
        std::byte* dst = block_.data() + c * plane + (first + y) * sink_.plan_.chunk_width * Size;
        const std::byte* src = rows.data + y * rows.row_stride + c * Size;
        for (std::uint64_t x = 0; x < rows.box.width; ++x) std::memcpy(dst + x * Size, src + x * samples * Size, Size);
      }
  }

  std::optional<std::uint64_t> complete() override {
    const std::vector<std::byte> encoded = sink_.writer_.encoder().encode_block(block_);
    sink_.writer_.store_block(sink_.block_coords(task_), encoded);
    return encoded.size();
  }

  std::vector<std::byte> block_;
};

void ZarrChunkSink::check_stop(const ChunkTask& task) const {
  if (stop_ && stop_())
    throw StoppedError(concat(store_.name(), ": stopped on request before chunk ", writer_.key(block_coords(task)),
                              "; the chunks written are whole, and running again with ", option("resume"),
                              " finishes the store"));
}

std::optional<DeviceBlockFormat> ZarrChunkSink::device_block_format(std::string* why_not) const {
  const zarr::ArraySpec& spec = writer_.spec();
  std::string why;
  if (raw_ || spec.compressors.empty()) {
    if (why_not != nullptr) why_not->clear();  // nothing to compress
    return std::nullopt;
  }
  if (!spec.shard_shape.empty()) {
    why = "sharded arrays are encoded on the host (their shard index)";
  } else if (spec.compressors.size() != 1) {
    why = concat("a chain of ", spec.compressors.size(), " compressors");
  } else if (!spec.transpose_order.empty()) {
    why = "the transpose codec";
  }
  if (!why.empty()) {
    if (why_not != nullptr) *why_not = why;
    return std::nullopt;
  }
  return DeviceBlockFormat{layout_, plan_.chunk_height, plan_.chunk_width, plan_.output.samples, plan_.output.dtype,
                           spec.compressors.front()};
}

void ZarrChunkSink::begin_encoded(const ChunkTask& task) { check_stop(task); }

void ZarrChunkSink::store_encoded(const ChunkTask& task, std::span<const std::byte> encoded) {
  check<UsageError>(device_block_format().has_value(), store_.name(),
                    ": an encoded block for an array whose blocks are encoded here");
  try {
    writer_.store_block(block_coords(task), encoded);
  } catch (const Error& e) {
    rethrow_with_context(e, concat("writing chunk ", writer_.key(block_coords(task)), " of ", store_.name()));
  }
  stored(encoded.size());
}

std::unique_ptr<ChunkRows> ZarrChunkSink::begin_rows(const ChunkTask& task) {
  check_stop(task);
  try {
    if (raw_) return std::make_unique<RawRows>(*this, task);  // begins the chunk's value
    return std::make_unique<BufferedRows>(*this, task);
  } catch (const Error& e) {
    rethrow_with_context(
        e, concat("writing chunk ", writer_.key(block_coords(task)), " of ", store_.name()));
  }
}

void ZarrChunkSink::flush() {
  if (commits_) commits_->wait_posted();
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
