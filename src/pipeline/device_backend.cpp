// The GPU backend: global and tiled runs of an op chain on the device; see the header.
#include "tilestream/pipeline/device_backend.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/core/parallel.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/memory_budget.hpp"
#include "tilestream/io/cufile.hpp"
#include "tilestream/io/device_range_reader.hpp"
#include "tilestream/ops/device.hpp"
#include "tilestream/slide/device_reader.hpp"
#include "tilestream/zarr/device_encoder.hpp"
#include "tilestream/zarr/encode_mode.hpp"
#include "pipeline/device_block.hpp"
#include "pipeline/device_block_batch.hpp"

namespace tilestream::pipeline {
namespace {

// The device primitives (streams, buffers, images, errors) by their short names.
using namespace tilestream::cuda;

using ops::ConstDeviceTileView;
using ops::DeviceTileView;
using ops::whole_view;

// The high-water mark of the device's default stream-ordered memory pool, reset at construction:
// DeviceBuffer and DeviceImage allocate from it, so it is the device memory a run held at most.
class PoolPeak {
 public:
  explicit PoolPeak(int device) {
    check_cuda(cudaDeviceGetDefaultMemPool(&pool_, device), "cudaDeviceGetDefaultMemPool");
    std::uint64_t zero = 0;
    check_cuda(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrUsedMemHigh, &zero),
               "cudaMemPoolSetAttribute(used memory high-water mark)");
  }
  std::size_t bytes() const {
    std::uint64_t high = 0;
    check_cuda(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemHigh, &high),
               "cudaMemPoolGetAttribute(used memory high-water mark)");
    return static_cast<std::size_t>(high);
  }

 private:
  cudaMemPool_t pool_ = nullptr;
};

// Read tasks of the tiled workers' readers: a chunk's source box is a few tiles.
constexpr std::size_t kTiledReadTaskBytes = std::size_t{1} << 20;

// Rows of one band of `band_bytes` for chunks `chunk_width` wide.
std::uint64_t band_rows(std::size_t band_bytes, std::uint64_t chunk_width, std::size_t pixel_bytes) {
  return std::max<std::uint64_t>(1, band_bytes / std::max<std::size_t>(1, chunk_width * pixel_bytes));
}

// A worker's band buffers: the chain's output band on the device (tiled mode) and two pinned bands
// with the events of their copies. The stream is the worker's.
struct Bands {
  Bands(std::size_t bytes, bool on_device, const Stream& stream) {
    if (on_device) device = DeviceBuffer(bytes, stream);
    for (PinnedBuffer& band : host) band = PinnedBuffer(bytes);
  }
  DeviceBuffer device;
  std::array<PinnedBuffer, 2> host;
  std::array<Event, 2> copied;
};

// A store value's file written from device memory with cuFile; closed by destruction.
class CuFileWriter final : public pipeline::DeviceFileWriter {
 public:
  explicit CuFileWriter(const std::string& path) : file_(path, io::gds::FileHandle::Mode::update) {}
  void write(std::uint64_t offset, const std::byte* device, std::size_t bytes) override {
    file_.write(device, bytes, offset);
  }

 private:
  io::gds::FileHandle file_;
};

// When the last of several workers was ready: the latest time any of them reports.
class LastReady {
 public:
  void ready(double seconds) {
    for (double seen = latest_.load(); seen < seconds && !latest_.compare_exchange_weak(seen, seconds);) {
    }
  }
  double seconds() const { return latest_.load(); }

 private:
  std::atomic<double> latest_{0};
};

// Streams task.out to the sink band by band: make_band(box) queues on `stream` whatever makes the
// band's pixels and returns where they are on the device; the copy of band k + 1 into the other pinned
// band runs while band k is stored.
// A chunk whose sink takes device rows (gds writes) and that spans the block's whole width: each band,
// packed into the device band where it is not already, is written from device memory, band by band.
void stream_chunk_from_device(const pipeline::ChunkTask& task, std::size_t pixel_bytes, std::uint64_t rows_per_band,
                              const std::function<ConstDeviceTileView(const ops::Box&)>& make_band, Bands& bands,
                              const Stream& stream, pipeline::ChunkRows& rows) {
  const std::size_t row_bytes = task.out.width * pixel_bytes;
  for (std::uint64_t y = task.out.y; y < task.out.y + task.out.height; y += rows_per_band) {
    const ops::Box box{y, task.out.x, std::min(rows_per_band, task.out.y + task.out.height - y), task.out.width};
    const ConstDeviceTileView band = make_band(box);
    const std::byte* first =
        band.data + (box.y - band.box.y) * band.row_stride + (box.x - band.box.x) * pixel_bytes;
    if (band.row_stride != row_bytes) {  // rows of a wider image (global mode): packed on the device
      check<UsageError>(bands.device.size() >= row_bytes * box.height, "stream_chunk: device band too small");
      check_cuda(cudaMemcpy2DAsync(bands.device.data(), row_bytes, first, band.row_stride, row_bytes, box.height,
                                   cudaMemcpyDeviceToDevice, stream.get()),
                 "cudaMemcpy2DAsync(device to device)");
      first = bands.device.data();
    }
    stream.synchronize();  // cuFile reads the band from device memory on the calling thread
    rows.write_device_rows({first, row_bytes, box});
  }
  rows.finish();
}

void stream_chunk(const pipeline::ChunkTask& task, std::size_t pixel_bytes, std::uint64_t rows_per_band,
                  std::uint64_t chunk_width, const std::function<ConstDeviceTileView(const ops::Box&)>& make_band,
                  Bands& bands, const Stream& stream, pipeline::ChunkSink& sink) {
  const std::unique_ptr<pipeline::ChunkRows> rows = sink.begin_rows(task);
  if (rows->takes_device_rows() && task.out.width == chunk_width) {
    try {
      return stream_chunk_from_device(task, pixel_bytes, rows_per_band, make_band, bands, stream, *rows);
    } catch (...) {
      try {
        stream.synchronize();
      } catch (...) {
      }
      throw;
    }
  }
  const std::uint64_t count = (task.out.height + rows_per_band - 1) / rows_per_band;
  const std::size_t row_bytes = task.out.width * pixel_bytes;
  std::array<ops::Box, 2> boxes;
  const auto queue_band = [&](std::uint64_t k) {
    const std::uint64_t y = task.out.y + k * rows_per_band;
    const ops::Box box{y, task.out.x, std::min(rows_per_band, task.out.y + task.out.height - y), task.out.width};
    check<UsageError>(bands.host[k % 2].size() >= row_bytes * box.height, "stream_chunk: pinned band too small");
    const ConstDeviceTileView band = make_band(box);
    const std::byte* first =
        band.data + (box.y - band.box.y) * band.row_stride + (box.x - band.box.x) * pixel_bytes;
    check_cuda(cudaMemcpy2DAsync(bands.host[k % 2].data(), row_bytes, first, band.row_stride, row_bytes, box.height,
                                 cudaMemcpyDeviceToHost, stream.get()),
               "cudaMemcpy2DAsync(device to host)");
    bands.copied[k % 2].record(stream);
    boxes[k % 2] = box;
  };
  try {
    queue_band(0);
    for (std::uint64_t k = 0; k < count; ++k) {
      bands.copied[k % 2].synchronize();
      if (k + 1 < count) queue_band(k + 1);  // into the other pinned band, stored last round
      rows->write_rows({bands.host[k % 2].data(), row_bytes, boxes[k % 2]});
    }
  } catch (...) {
    try {
      stream.synchronize();  // no copy may still write a pinned band once the error leaves
    } catch (...) {
    }
    throw;
  }
  rows->finish();
}

// Global mode's levels of this many blocks or more are compressed with nvCOMP under encode auto
// (device_encoding says why).
constexpr std::size_t kAutoNvcompBlocks = 1024;

std::size_t global_encode_in_flight() {
  const unsigned set = default_settings().encode_in_flight_blocks;
  return set != 0 ? set : 2048;
}

// Global mode's batches of blocks compressed on the GPU: {blocks per call, writing threads}. nvCOMP's
// zstd takes about 0.13-0.2 s for a 512 x 512 x 3 block whatever else is in flight, so throughput comes
// from blocks in flight: 16 calls of 128 compressed level 0's 2,028 blocks in 0.26 s where calls of 32,
// four in flight, took 0.8 s (H200, bench/results/encode_2026-12-04.md). So up to `in flight` blocks
// (TILESTREAM_ENCODE_IN_FLIGHT, else 2,048) spread evenly over the threads, fewer where a quarter of
// the free device memory cannot hold each block twice (the block and nvCOMP's output); any blocks
// may share a call, since they all lie in the device image already. TILESTREAM_ENCODE_BATCH fixes the
// blocks per call instead.
std::pair<std::size_t, std::size_t> global_encode_batches(std::size_t blocks, std::size_t threads,
                                                          std::size_t block_bytes, std::uint64_t available) {
  threads = std::max<std::size_t>(1, std::min(threads, blocks));
  const std::size_t in_flight = std::clamp<std::size_t>(available / 4 / std::max<std::size_t>(1, 2 * block_bytes), 1,
                                                        global_encode_in_flight());
  const unsigned set_batch = default_settings().encode_batch_blocks;
  const std::size_t per_thread = std::max<std::size_t>(1, in_flight / threads);
  const std::size_t batch = set_batch != 0 ? set_batch : std::min(per_thread, (blocks + threads - 1) / threads);
  return {batch, std::min(threads, in_flight / std::min(batch, in_flight))};
}

// Adjacent tasks of one row that a tiled worker reads as one box (TILESTREAM_TILED_GROUP, else 8):
// a larger nvJPEG batch, and one nvCOMP call for their blocks.
unsigned default_tiled_group() {
  const unsigned set = default_settings().tiled_group;
  return set != 0 ? set : 8;
}

// The pixels of `box` of the job's source on the device: a slide level's tiles through `reader` (its io
// mode, placed on the device), an array's read on the host and uploaded on `stream`.
DeviceImage read_source(const pipeline::Job& job, const ops::Box& box, slide::DeviceReader& reader, unsigned threads,
                        slide::DeviceReadReport& report, const Stream& stream) {
  if (const slide::Slide* stored = job.source.slide()) {
    const tiff::ImageInfo& image = stored->level(job.source.level()).image;
    if (box.x == 0 && box.y == 0 && box.width == image.width && box.height == image.height)
      return reader.read_level(*stored, job.source.level(), &report);  // the whole-level path
    return reader.read_region(*stored, job.source.level(), box.x, box.y, box.width, box.height, &report);
  }
  const auto start = std::chrono::steady_clock::now();
  const HostImage host = job.source.read(box, threads);
  DeviceImage image(box.height, box.width, host.samples(), host.dtype(), stream);
  check_cuda(cudaMemcpyAsync(image.data(), host.data(), host.size_bytes(), cudaMemcpyHostToDevice, stream.get()),
             "cudaMemcpyAsync(host to device)");
  stream.synchronize();  // `host` goes when this returns
  report.io = io::IoMode::posix;
  report.io_detail = concat("decoded on the host from ", job.source.name(), " and copied to the device");
  report.seconds = seconds_since(start);
  return image;
}

class CudaBackend final : public pipeline::Backend {
 public:
  explicit CudaBackend(const DeviceBackendOptions& options) : options_(options) {
    const int devices = device_count();
    check<UsageError>(devices > 0, "no CUDA device (", no_device_reason(), ")");
    check<UsageError>(options.device >= 0 && options.device < devices, "CUDA device ", options.device,
                      " does not exist (", devices, " device", devices == 1 ? "" : "s", ")");
    const DeviceGuard guard(options.device);
    // Once for the run: every reader of it (one per tiled worker) reads the way decided here.
    io_ = io::resolve_device_io(options.io.value_or(io::default_io_mode()));
    decode_ = codec::nvjpeg::resolve_device_decode(options.decode.value_or(codec::default_decode_mode()),
                                                   options.device);
    // Tiled workers read a few chunks' tiles at a time, each through a one-thread reader of its own.
    // nvJPEG batches that small, 16 workers at once, ran 3x slower than the same workers decoding on
    // the CPU (H200, 2026-12-04: level 0 of the seed-size slide 3.8 s against 1.2 s,
    // bench/results/encode_2026-12-04.md), so under auto they decode on the CPU; global mode's reader
    // (whole levels, batches of hundreds of tiles) keeps nvJPEG, and decode gpu forces it everywhere.
    tiled_decode_ = decode_;
    if (decode_.gpu && decode_.automatic) {
      tiled_decode_ = {false, false, "CPU (libjpeg-turbo)",
                       concat("auto: tiled workers decode their few tiles at a time on the CPU, faster than nvJPEG's "
                              "small batches (", decode_.decoder, " decodes in global mode and under ",
                              option("decode"), " gpu)"),
                       true};
    }
    encode_mode_ = options.encode.value_or(zarr::default_encode_mode());
    if (encode_mode_ != zarr::EncodeMode::cpu) {
      nvcomp_ = zarr::DeviceChunkEncoder::available(&nvcomp_missing_);
      check<UnsupportedError>(nvcomp_ || encode_mode_ != zarr::EncodeMode::gpu,
                              "GPU chunk compression is not available: ", nvcomp_missing_, " (use ", option("encode"),
                              " cpu)");
    }
  }
  ~CudaBackend() override {
    // The kept workers go on their device (their streams and buffers are its).
    try {
      const DeviceGuard guard(options_.device);
      const std::lock_guard lock(idle_mutex_);
      idle_workers_.clear();
      idle_writers_.clear();
      global_reader_.reset();
    } catch (...) {
    }
  }


  std::string name() const override { return concat("cuda:", options_.device); }

  pipeline::BackendReport run_global(const pipeline::Job& job, pipeline::ChunkSink& sink) const override {
    const DeviceGuard guard(options_.device);
    // The run's datasets (a pyramid's levels) share one reader: its pinned staging and nvJPEG states
    // cost more to make than a small level takes to read.
    std::unique_ptr<slide::DeviceReader> kept;
    {
      const std::lock_guard lock(idle_mutex_);
      if (global_reader_ && global_reader_->threads() == resolve_threads(job.threads)) kept = std::move(global_reader_);
    }
    release_idle([&] { idle_workers_.clear(); });  // tiled mode's, which this run does not use
    const bool made = !kept;
    if (made) kept = std::make_unique<slide::DeviceReader>(reader_options(job.threads));
    slide::DeviceReader& reader = *kept;
    const PoolPeak peak(options_.device);
    pipeline::BackendReport out;
    slide::DeviceReadReport report;
    const Stream stream;
    const ops::Box whole{0, 0, job.plan.input.height, job.plan.input.width};
    const DeviceImage source = read_source(job, whole, reader, job.threads, report, stream);
    out.read_seconds = report.seconds;
    out.io = io::to_string(report.io);
    out.io_detail = report.io_detail;  // names its mode already
    if (made) out.io_detail += concat("; the reader made in ", reader.setup_seconds(), " s (kept for the run's next dataset)");
    out.decode.add(report.decode);
    const auto compute_start = std::chrono::steady_clock::now();
    const ops::ImageShape& out_shape = job.plan.output;
    DeviceImage result;
    if (!job.chain.empty()) {  // no ops: the blocks are cut from the source itself
      result = DeviceImage(out_shape.height, out_shape.width, out_shape.samples, out_shape.dtype, stream);
      run_chain(job.chain, whole_view(source), job.plan.input, whole_view(result), stream);
      stream.synchronize();
    }
    out.compute_seconds = seconds_since(compute_start);

    // Chunks out: one stream and two pinned bands per thread (or, where chunks are compressed here, a
    // batch of device blocks and an encoder), each set up on its own thread so that the threads pin
    // their memory in parallel. Compressed chunks go in even batches of tasks, one nvCOMP call each
    // (global_encode_batches).
    const std::size_t pixel = out_shape.pixel_bytes();
    const std::uint64_t rows_per_band = band_rows(band_bytes(), job.plan.chunk_width, pixel);
    const std::optional<pipeline::DeviceBlockFormat> encoding = device_encoding(sink, out, job.plan.tasks.size());
    std::size_t batch = 1;
    std::size_t threads = job.threads;
    if (encoding) {
      std::tie(batch, threads) =
          global_encode_batches(job.plan.tasks.size(), job.threads, encoding->block_bytes(),
                                cuda::available_device_memory(options_.device).bytes);
    }
    const std::vector<std::pair<std::size_t, std::size_t>> units = pipeline::even_spans(job.plan.tasks.size(), batch);
    threads = std::min<std::size_t>(threads, units.size());
    std::atomic<std::uint64_t> encoded{0};
    std::vector<std::unique_ptr<GlobalWriter>> pool(threads);
    const auto start = std::chrono::steady_clock::now();
    LastReady setup;
    const ConstDeviceTileView all = whole_view(job.chain.empty() ? source : std::as_const(result));
    BusySeconds write;
    parallel_for_workers(units.size(), static_cast<unsigned>(threads), [&](std::size_t u, unsigned w) {
      const DeviceGuard thread_guard(options_.device);
      if (!pool[w]) {
        pool[w] = take_idle_writer();
        if (!pool[w]) pool[w] = std::make_unique<GlobalWriter>();
        if (encoding) pool[w]->blocks.prepare(*encoding, batch, pool[w]->stream);
        else pool[w]->prepare_bands(rows_per_band * job.plan.chunk_width * pixel, io_.mode == io::IoMode::gds);
        setup.ready(seconds_since(start));
      }
      GlobalWriter& mine = *pool[w];
      const std::size_t first = units[u].first, count = units[u].second;
      write.time([&] {
        const auto all_of = [&](const ops::Box&) { return all; };
        if (encoding) {
          // Whole chunks at once: their rows lie in the image already.
          for (std::size_t n = first; n < first + count; ++n)
            mine.blocks.add(job.plan.tasks[n], *encoding, pixel, job.plan.chunk_height, all_of, mine.stream, sink);
          encoded += mine.blocks.encode_and_store(mine.stream, sink);
          return;
        }
        stream_chunk(job.plan.tasks[first], pixel, rows_per_band, job.plan.chunk_width, all_of, *mine.bands,
                     mine.stream, sink);
      });
    });
    const double last_done = seconds_since(start);
    out.store_seconds = last_done;
    const auto release = std::chrono::steady_clock::now();
    {
      // Kept for the run's next dataset, like the reader.
      const std::lock_guard lock(idle_mutex_);
      for (std::unique_ptr<GlobalWriter>& writer : pool)
        if (writer) idle_writers_.push_back(std::move(writer));
    }
    out.io_detail += concat("; ", threads, " writing threads (",
                            encoding ? concat("stream and ", batch, " device blocks each, compressed in one nvCOMP call")
                            : io_.mode == io::IoMode::gds ? "stream and device band each: cuFile writes where the store takes them"
                                                          : "stream and pinned bands each",
                            "), the last ready ",
                            setup.seconds(), " s after the chain, all chunks stored after ", last_done,
                            " s, kept for the run's next dataset in ", seconds_since(release), " s");
    out.write_seconds = write.seconds();
    out.blocks_gpu_encoded = encoded.load();
    out.peak_device_bytes = peak.bytes();  // a high-water mark: the chain's moment is in it
    out.bytes_held = out.peak_device_bytes;
    {
      const std::lock_guard lock(idle_mutex_);
      global_reader_ = std::move(kept);
    }
    return out;
  }

  pipeline::BackendReport run_tiled(const pipeline::Job& job, pipeline::ChunkSink& sink) const override {
    const DeviceGuard guard(options_.device);
    const ops::ImageShape& out_shape = job.plan.output;
    const std::size_t pixel = out_shape.pixel_bytes();
    const std::uint64_t rows_per_band = band_rows(band_bytes(), job.plan.chunk_width, pixel);
    // Each worker sets itself up on its own thread when it starts, so the first chunks are read while
    // the others still pin their memory.
    pipeline::BackendReport out;
    const std::optional<pipeline::DeviceBlockFormat> encoding = device_encoding(sink, out, std::nullopt);
    // A worker takes up to job.group adjacent blocks of a row at once: their source boxes read as one
    // box (one nvJPEG batch for all their tiles) and, where they are compressed here, their blocks
    // compressed in one nvCOMP call.
    const std::vector<std::pair<std::size_t, std::size_t>> groups = pipeline::row_runs(job.plan.tasks, job.group);
    const unsigned workers = static_cast<unsigned>(std::clamp<std::size_t>(job.workers, 1, groups.size()));
    std::atomic<std::uint64_t> encoded{0};
    std::vector<std::unique_ptr<TiledWorker>> pool(workers);
    const std::size_t worker_band_bytes = rows_per_band * job.plan.chunk_width * pixel;
    release_idle([&] {  // no more held than this run uses: global mode's reader and writers, workers beyond ours
      if (idle_workers_.size() > workers) idle_workers_.resize(workers);
      global_reader_.reset();
      idle_writers_.clear();
    });
    const PoolPeak peak(options_.device);
    const auto start = std::chrono::steady_clock::now();
    LastReady setup;
    std::mutex detail_mutex;
    BusySeconds read, write;
    parallel_for_workers(groups.size(), workers, [&](std::size_t g, unsigned w) {
      const std::size_t first = groups[g].first, count = groups[g].second;
      const std::span<const pipeline::ChunkTask> tasks(job.plan.tasks.data() + first, count);
      const auto where = [&] {
        const pipeline::ChunkTask& last = tasks.back();
        return tasks.size() == 1 ? concat("chunk (", last.row, ", ", last.col, ") on cuda:", options_.device)
                          : concat("chunks (", tasks.front().row, ", ", tasks.front().col, ") to (", last.row, ", ",
                                   last.col, ") on cuda:", options_.device);
      };
      bool named = false;  // the error names its chunk already
      try {
        const DeviceGuard thread_guard(options_.device);
        if (!pool[w]) {
          pool[w] = take_idle_worker(worker_band_bytes);
          if (!pool[w]) pool[w] = std::make_unique<TiledWorker>(worker_band_bytes, reader_options(1, kTiledReadTaskBytes, tiled_decode_));
          if (encoding) pool[w]->blocks.prepare(*encoding, std::max(1u, job.group), pool[w]->stream);
          setup.ready(seconds_since(start));
        }
        TiledWorker& mine = *pool[w];
        slide::DeviceReadReport report;
        const ops::Box box = pipeline::union_of_inputs(tasks);
        const DeviceImage source =
            read.time([&] { return read_source(job, box, mine.reader, 1, report, mine.stream); });
        const ConstDeviceTileView in{source.data(), source.row_stride(), box};
        write.time([&] {
          for (const pipeline::ChunkTask& task : tasks) {
            const auto make_band = [&](const ops::Box& band) {
              if (job.chain.empty()) return in;  // the identity: bands copied straight from the source
              const ops::Box need = job.chain.input_box(band, job.plan.input);
              const ConstDeviceTileView band_in{
                  in.data + (need.y - in.box.y) * in.row_stride + (need.x - in.box.x) * job.plan.input.pixel_bytes(),
                  in.row_stride, need};
              const DeviceTileView band_out{mine.bands.device.data(), band.width * pixel, band};
              run_chain(job.chain, band_in, job.plan.input, band_out, mine.stream);
              return ConstDeviceTileView{band_out.data, band_out.row_stride, band_out.box};
            };
            try {
              if (encoding) mine.blocks.add(task, *encoding, pixel, rows_per_band, make_band, mine.stream, sink);
              else stream_chunk(task, pixel, rows_per_band, job.plan.chunk_width, make_band, mine.bands, mine.stream, sink);
            } catch (const Error& e) {
              named = true;
              rethrow_with_context(e, concat("chunk (", task.row, ", ", task.col, ") on cuda:", options_.device));
            }
          }
          if (encoding) encoded += mine.blocks.encode_and_store(mine.stream, sink);
        });
        {
          const std::lock_guard lock(detail_mutex);
          if (g == 0) {
            out.io = io::to_string(report.io);
            out.io_detail = report.io_detail;  // names its mode already
          }
          out.decode.add(report.decode);
        }
      } catch (const Error& e) {
        if (named) throw;
        rethrow_with_context(e, where());
      }
    });
    const double last_done = seconds_since(start);
    out.store_seconds = last_done;
    const auto release = std::chrono::steady_clock::now();
    {
      // Kept for the run's next dataset (a pyramid's next level): their pinned memory, streams and
      // nvJPEG states cost more to make and free than a small level takes to convert.
      const std::lock_guard lock(idle_mutex_);
      for (std::unique_ptr<TiledWorker>& worker : pool)
        if (worker) idle_workers_.push_back(std::move(worker));
    }
    out.io_detail += concat("; ", workers, " workers (one-thread reader, stream, device and pinned bands",
                            encoding ? concat(", ", std::max(1u, job.group), " device blocks and an nvCOMP encoder") : "",
                            " each, kept for the run's next dataset; up to ", std::max(1u, job.group),
                            " adjacent chunks of a row read as one box), the last ready ", setup.seconds(),
                            " s after the start, all chunks stored after ", last_done, " s, handed back in ",
                            seconds_since(release), " s");
    out.read_seconds = read.seconds();
    out.write_seconds = write.seconds();  // the chain runs band by band inside stream_chunk: counted here
    out.blocks_gpu_encoded = encoded.load();
    out.peak_device_bytes = peak.bytes();
    return out;
  }

  unsigned tiled_group() const override { return default_tiled_group(); }

  // Global mode on the device: the level and the chain's output, and at most two of the chain's
  // whole-image intermediates at a time (run_chain frees each once the next op has read it); where
  // chunks may be compressed here, the blocks being compressed (twice: nvCOMP's output beside them).
  std::uint64_t global_bytes(const pipeline::ChunkPlan& plan, const ops::Chain& chain) const override {
    const std::vector<ops::ImageShape> shapes = chain.shapes(plan.input);
    const auto bytes = [&](std::size_t i) {
      return image_bytes(shapes[i].height, shapes[i].width, shapes[i].samples, shapes[i].dtype);
    };
    const auto add = [](std::uint64_t a, std::uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; };
    std::uint64_t intermediates = 0;  // shapes[1 .. size - 2]
    for (std::size_t i = 1; i + 1 < shapes.size(); ++i)
      intermediates = std::max(intermediates, i + 2 < shapes.size() ? add(bytes(i), bytes(i + 1)) : bytes(i));
    const std::uint64_t blocks =
        nvcomp_ && encode_mode_ != zarr::EncodeMode::cpu
            ? 2 * std::min<std::uint64_t>(plan.tasks.size(), global_encode_in_flight()) * plan.chunk_bytes()
            : 0;
    return add(add(add(bytes(0), bytes(shapes.size() - 1)), intermediates), blocks);
  }
  MemoryAvailable memory_available() const override { return available_device_memory(options_.device); }

  // gds: raw blocks go from device memory into their files with cuFile (GPUDirect Storage, or its
  // compatibility mode), one handle per block.
  pipeline::DeviceFileWriters device_file_writers() const override {
    if (io_.mode != io::IoMode::gds) return {};
    return [](const std::string& path) -> std::unique_ptr<pipeline::DeviceFileWriter> {
      return std::make_unique<CuFileWriter>(path);
    };
  }

  // One task in flight: its source box on the device (the largest), the chain's intermediates for one
  // band and the device band, two pinned bands, and the reader's two slots of device and pinned
  // staging.
  std::size_t tiled_task_bytes(const pipeline::ChunkPlan& plan, const ops::Chain& chain,
                               std::size_t tile_bytes) const override {
    const std::size_t pixel = plan.output.pixel_bytes();
    const std::uint64_t rows = band_rows(band_bytes(), plan.chunk_width, pixel);
    std::size_t most = 0;
    for (const pipeline::ChunkTask& task : plan.tasks) {
      const ops::Box band{task.out.y, task.out.x, std::min(rows, task.out.height), task.out.width};
      most = std::max(most, task.in.height * task.in.width * plan.input.pixel_bytes() +
                                chain.scratch_bytes(band, plan.input));
    }
    const std::size_t band_bytes = rows * plan.chunk_width * pixel;
    // nvJPEG's two slots of decoded tiles (those covering the source box, with its edges' tiles) and,
    // where chunks may be compressed here, the padded block and nvCOMP's output for it.
    std::size_t most_in = 0;
    for (const pipeline::ChunkTask& task : plan.tasks) most_in = std::max<std::size_t>(most_in, task.in.height * task.in.width * plan.input.pixel_bytes());
    const std::size_t jpeg_slots = tiled_decode_.gpu ? 3 * most_in + 4 * tile_bytes : 0;
    const std::size_t block = nvcomp_ && encode_mode_ != zarr::EncodeMode::cpu ? 2 * plan.chunk_bytes() : 0;
    return most + 3 * band_bytes + 4 * kTiledReadTaskBytes + jpeg_slots + block;
  }

 private:
  std::size_t band_bytes() const { return resolve_band_bytes(options_.band_bytes); }
  slide::DeviceReaderOptions reader_options(unsigned threads, std::size_t task_bytes = 0,
                                            const std::optional<codec::nvjpeg::ResolvedDecode>& decode = {}) const {
    slide::DeviceReaderOptions o;
    o.resolved_decode = decode.value_or(decode_);
    o.threads = threads;
    o.task_bytes = task_bytes;
    o.device = options_.device;
    o.resolved_io = io_;
    return o;
  }

  // Whether this dataset's chunks are compressed here, and what they must hold; says which encoder
  // runs, and why, in `out`. UnsupportedError where encode gpu was asked for and the array's codecs
  // cannot run on the GPU.
  // Where the run's chunks are compressed: on the device (the format of its blocks) or, nullopt, on the
  // host. `global_blocks`: the blocks of a global run, nullopt for a tiled one.
  std::optional<pipeline::DeviceBlockFormat> device_encoding(pipeline::ChunkSink& sink, pipeline::BackendReport& out,
                                                             std::optional<std::size_t> global_blocks) const {
    std::string why;
    std::optional<pipeline::DeviceBlockFormat> format = sink.device_block_format(&why);
    if (!format && why.empty()) return std::nullopt;  // nothing to compress: raw chunks
    if (format) why = zarr::DeviceChunkEncoder::gpu_unsupported_reason(format->compressor, bytes_per_sample(format->dtype));
    if (encode_mode_ == zarr::EncodeMode::cpu) {
      why = "encode cpu was asked for";
    } else if (!nvcomp_) {
      why = nvcomp_missing_;
    } else if (format && why.empty() && encode_mode_ == zarr::EncodeMode::automatic &&
               format->compressor.name != "blosc") {
      // A zstd, lz4 or gzip chunk is one nvCOMP stream, compressed by a few threads in 0.13-0.2 s for
      // a 512 x 512 x 3 block; nvCOMP wins only with enough blocks in flight at once. On the H200, a
      // level of 2,028 blocks stored in 0.46-0.58 s with nvCOMP against 0.79 s with 16 CPU threads, one
      // of 507 blocks in 0.36-0.62 s against 0.22 s; tiled workers' groups of a few blocks lost to the
      // CPU threads 3-8x (bench/results/encode_2026-12-04.md).
      if (!global_blocks) {
        why = concat("auto: tiled workers compress a few ", format->compressor.name, " chunks at a time, each one "
                     "nvCOMP stream, slower than the CPU threads; --mode global compresses levels of ", kAutoNvcompBlocks,
                     " chunks or more with nvCOMP, --encode gpu forces it");
      } else if (*global_blocks < kAutoNvcompBlocks) {
        why = concat("auto: ", *global_blocks, " ", format->compressor.name, " chunks, fewer than the ",
                     kAutoNvcompBlocks, " that keep nvCOMP busy enough to beat the CPU threads (each chunk is one "
                     "nvCOMP stream); --encode gpu forces nvCOMP");
      }
    }
    if (!format || !why.empty()) {
      check<UnsupportedError>(encode_mode_ != zarr::EncodeMode::gpu, "the chunks cannot be compressed on the GPU: ",
                              why, " (use ", option("encode"), " cpu)");
      out.encoder = "CPU";
      out.encode_detail = why;
      return std::nullopt;
    }
    out.encoder = "nvCOMP (GPU)";
    out.encode_detail = concat(format->compressor.name, " chunks compressed in device memory by nvCOMP, copied to the host");
    return format;
  }

  // A tiled worker: its stream, one-thread reader, device and pinned bands, and where chunks are
  // compressed here a group's padded blocks and the encoder. Kept between the datasets of a run.
  struct TiledWorker {
    TiledWorker(std::size_t bytes, const slide::DeviceReaderOptions& reader_options)
        : reader(reader_options), bands(bytes, true, stream), band_bytes(bytes) {}
    Stream stream;
    slide::DeviceReader reader;
    Bands bands;
    std::size_t band_bytes = 0;
    EncodeBatch blocks;  // chunks compressed here: the padded blocks of a group and the encoder
  };
  // Frees what `drop` takes out of the kept readers, writers and workers, and waits until their device
  // memory is back in the pool, so that the run's peak (PoolPeak) counts only what it holds.
  template <class Drop>
  void release_idle(Drop drop) const {
    std::size_t before = 0, after = 0;
    {
      const std::lock_guard lock(idle_mutex_);
      before = idle_workers_.size() + idle_writers_.size() + (global_reader_ ? 1 : 0);
      drop();
      after = idle_workers_.size() + idle_writers_.size() + (global_reader_ ? 1 : 0);
    }
    if (after < before) check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize(kept buffers freed)");
  }
  // A writing thread of global mode: its stream, and its pinned bands (chunks compressed on the host
  // or written raw) or its batch of device blocks and encoder. Kept between the datasets of a run.
  struct GlobalWriter {
    void prepare_bands(std::size_t bytes, bool device_band) {
      if (!bands || bands->host[0].size() < bytes || (device_band && bands->device.size() < bytes))
        bands.emplace(bytes, device_band, stream);
    }
    Stream stream;
    std::optional<Bands> bands;
    EncodeBatch blocks;
  };
  std::unique_ptr<GlobalWriter> take_idle_writer() const {
    const std::lock_guard lock(idle_mutex_);
    if (idle_writers_.empty()) return nullptr;
    std::unique_ptr<GlobalWriter> writer = std::move(idle_writers_.back());
    idle_writers_.pop_back();
    return writer;
  }
  // An idle worker whose bands hold `band_bytes`, or null.
  std::unique_ptr<TiledWorker> take_idle_worker(std::size_t band_bytes) const {
    const std::lock_guard lock(idle_mutex_);
    for (auto it = idle_workers_.begin(); it != idle_workers_.end(); ++it) {
      if ((*it)->band_bytes >= band_bytes) {
        std::unique_ptr<TiledWorker> worker = std::move(*it);
        idle_workers_.erase(it);
        return worker;
      }
    }
    return nullptr;
  }

  DeviceBackendOptions options_;
  mutable std::mutex idle_mutex_;
  mutable std::vector<std::unique_ptr<TiledWorker>> idle_workers_;
  mutable std::vector<std::unique_ptr<GlobalWriter>> idle_writers_;  // global mode's, between datasets
  mutable std::unique_ptr<slide::DeviceReader> global_reader_;  // the global mode's, between datasets
  io::ResolvedIo io_;
  codec::nvjpeg::ResolvedDecode decode_;
  codec::nvjpeg::ResolvedDecode tiled_decode_;  // the tiled workers' (decode_, or the CPU under auto)
  zarr::EncodeMode encode_mode_ = zarr::EncodeMode::cpu;
  bool nvcomp_ = false;         // nvCOMP loads
  std::string nvcomp_missing_;  // why it does not
};

}  // namespace

std::unique_ptr<pipeline::Backend> make_device_backend(const DeviceBackendOptions& options) {
  return std::make_unique<CudaBackend>(options);
}

}  // namespace tilestream::pipeline
