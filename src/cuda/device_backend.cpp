// The GPU backend: global and tiled runs of an op chain on the device; see the header.
#include "tilestream/cuda/device_backend.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/core/parallel.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/device_reader.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/ops.hpp"

namespace tilestream::cuda {
namespace {

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

ops::ConstTileView host_view(const PinnedBuffer& buffer, std::size_t row_stride, const ops::Box& box) {
  return {buffer.data(), row_stride, box};
}

// Copies `box` of a device image (whose pixels cover `image_box`) into pinned memory, rows packed,
// and waits for it.
void copy_box_to_host(const DeviceTileView& image, const ops::Box& box, std::size_t pixel_bytes,
                      PinnedBuffer& host, const Stream& stream) {
  const std::size_t row_bytes = box.width * pixel_bytes;
  check<UsageError>(host.size() >= row_bytes * box.height, "copy_box_to_host: pinned buffer too small");
  const std::byte* first = image.data + (box.y - image.box.y) * image.row_stride + (box.x - image.box.x) * pixel_bytes;
  check_cuda(cudaMemcpy2DAsync(host.data(), row_bytes, first, image.row_stride, row_bytes, box.height,
                               cudaMemcpyDeviceToHost, stream.get()),
             "cudaMemcpy2DAsync(device to host)");
  stream.synchronize();
}

class CudaBackend final : public DeviceBackend {
 public:
  explicit CudaBackend(const DeviceBackendOptions& options) : options_(options) {
    const int devices = device_count();
    check<UsageError>(devices > 0, "no CUDA device (", no_device_reason(), ")");
    check<UsageError>(options.device >= 0 && options.device < devices, "CUDA device ", options.device,
                      " does not exist (", devices, " device", devices == 1 ? "" : "s", ")");
  }

  std::string name() const override { return concat("cuda:", options_.device); }
  std::size_t last_peak_device_bytes() const override { return peak_; }
  std::string last_io_detail() const override { return io_detail_; }

  std::size_t run_global(const pipeline::Job& job, pipeline::ChunkSink& sink) const override {
    const DeviceGuard guard(options_.device);
    DeviceReader reader(reader_options(job.threads));
    const PoolPeak peak(options_.device);
    DeviceReadReport report;
    const DeviceImage source = reader.read_level(job.slide, job.level, &report);
    io_detail_ = concat(io::to_string(report.io), ": ", report.io_detail);
    const Stream stream;
    const ops::ImageShape& out_shape = job.plan.output;
    DeviceImage result(out_shape.height, out_shape.width, out_shape.samples, out_shape.dtype, stream);
    run_chain(job.chain, whole_view(source), job.plan.input, whole_view(result), stream);
    stream.synchronize();

    // Chunks out: one stream and pinned chunk per thread.
    const unsigned threads = static_cast<unsigned>(std::min<std::size_t>(job.threads, job.plan.tasks.size()));
    const auto setup = std::chrono::steady_clock::now();
    std::vector<Stream> streams(threads);
    std::vector<PinnedBuffer> chunks;
    for (unsigned t = 0; t < threads; ++t) chunks.emplace_back(job.plan.chunk_bytes());
    io_detail_ += concat("; ", threads, " pinned chunks allocated in ", seconds_since(setup), " s");
    const DeviceTileView all = whole_view(result);
    parallel_for_workers(job.plan.tasks.size(), threads, [&](std::size_t n, unsigned w) {
      const pipeline::ChunkTask& task = job.plan.tasks[n];
      copy_box_to_host(all, task.out, out_shape.pixel_bytes(), chunks[w], streams[w]);
      sink.write(task, host_view(chunks[w], task.out.width * out_shape.pixel_bytes(), task.out));
    });
    peak_ = peak.bytes();  // a high-water mark: the chain's moment is in it
    return peak_;
  }

  void run_tiled(const pipeline::Job& job, pipeline::ChunkSink& sink) const override {
    const DeviceGuard guard(options_.device);
    const unsigned workers = static_cast<unsigned>(std::clamp<std::size_t>(job.workers, 1, job.plan.tasks.size()));
    // The read threads are shared out between the workers, each reading its own chunks, with small
    // read tasks: a chunk's source box is a few tiles, and every worker's staging counts against the
    // device memory that tiled mode is meant to save.
    const unsigned read_threads = std::max(1u, job.threads / workers);
    constexpr std::size_t tiled_task_bytes = std::size_t{1} << 20;
    struct Worker {
      Stream stream;
      DeviceReader reader;
      PinnedBuffer chunk;
    };
    const auto setup = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<Worker>> pool;
    for (unsigned w = 0; w < workers; ++w) {
      pool.push_back(std::make_unique<Worker>(
          Worker{Stream(), DeviceReader(reader_options(read_threads, tiled_task_bytes)),
                 PinnedBuffer(job.plan.chunk_bytes())}));
    }
    const double setup_seconds = seconds_since(setup);
    const PoolPeak peak(options_.device);
    const ops::ImageShape& out_shape = job.plan.output;
    std::mutex detail_mutex;
    parallel_for_workers(job.plan.tasks.size(), workers, [&](std::size_t n, unsigned w) {
      const pipeline::ChunkTask& task = job.plan.tasks[n];
      Worker& mine = *pool[w];
      try {
        DeviceReadReport report;
        const DeviceImage source = mine.reader.read_region(job.slide, job.level, task.in.x, task.in.y,
                                                           task.in.width, task.in.height, &report);
        DeviceImage result(task.out.height, task.out.width, out_shape.samples, out_shape.dtype, mine.stream);
        const ConstDeviceTileView in{source.data(), source.row_stride(), task.in};
        const DeviceTileView out{result.data(), result.row_stride(), task.out};
        run_chain(job.chain, in, job.plan.input, out, mine.stream);
        copy_box_to_host(out, task.out, out_shape.pixel_bytes(), mine.chunk, mine.stream);
        sink.write(task, host_view(mine.chunk, task.out.width * out_shape.pixel_bytes(), task.out));
        if (n == 0) {
          const std::lock_guard lock(detail_mutex);
          io_detail_ = concat(io::to_string(report.io), ": ", report.io_detail, "; ", workers,
                              " workers (readers, streams, pinned chunks) set up in ", setup_seconds, " s");
        }
      } catch (const Error& e) {
        rethrow_with_context(e, concat("chunk (", task.row, ", ", task.col, ") on cuda:", options_.device));
      }
    });
    peak_ = peak.bytes();
  }

 private:
  DeviceReaderOptions reader_options(unsigned threads, std::size_t task_bytes = 0) const {
    DeviceReaderOptions o;
    o.threads = threads;
    o.task_bytes = task_bytes;
    o.device = options_.device;
    o.io = options_.io;
    return o;
  }

  DeviceBackendOptions options_;
  // What the last run measured (a backend runs one job at a time).
  mutable std::size_t peak_ = 0;
  mutable std::string io_detail_;
};

}  // namespace

std::unique_ptr<DeviceBackend> make_device_backend(const DeviceBackendOptions& options) {
  return std::make_unique<CudaBackend>(options);
}

}  // namespace tilestream::cuda
