// The CPU backend: ops through Op::run_cpu. Global mode runs each op over the whole image in bands of
// rows on a thread pool (each band reads its input box from the whole previous image); tiled mode
// runs whole chunks (read, chain, hand over) on `workers` threads, each holding one chunk at a time.
#include <algorithm>
#include <chrono>
#include <cstdint>

#include "tilestream/core/error.hpp"
#include "tilestream/core/host_image.hpp"
#include "tilestream/core/parallel.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/pipeline/backend.hpp"

namespace tilestream::pipeline {
namespace {

ops::ConstTileView view_of(const HostImage& image, const ops::Box& box) {
  return {image.row(box.y) + box.x * image.pixel_bytes(), image.row_bytes(), box};
}

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }

  BackendReport run_global(const Job& job, ChunkSink& sink) const override {
    BusySeconds read, compute, write;
    const std::vector<ops::ImageShape> shapes = job.chain.shapes(job.plan.input);
    const ops::Box whole{0, 0, job.plan.input.height, job.plan.input.width};
    HostImage current = read.time([&] { return job.source.read(whole, job.threads); });
    std::size_t most = current.size_bytes();
    for (std::size_t i = 0; i < job.chain.size(); ++i) {
      const ops::Op& op = job.chain.op(i);
      const ops::ImageShape& in_shape = shapes[i];
      const ops::ImageShape& out_shape = shapes[i + 1];
      HostImage next(out_shape.height, out_shape.width, out_shape.samples, out_shape.dtype);
      most = std::max(most, current.size_bytes() + next.size_bytes());
      // Bands of rows, a few per thread so that uneven bands even out.
      const std::uint64_t bands = std::min<std::uint64_t>(out_shape.height, 4ull * job.threads);
      const std::uint64_t band = (out_shape.height + bands - 1) / bands;
      parallel_for((out_shape.height + band - 1) / band, job.threads, [&](std::size_t b) {
        const std::uint64_t y = b * band;
        const ops::Box box{y, 0, std::min(band, out_shape.height - y), out_shape.width};
        const ops::Box need = op.input_box(box, in_shape);
        compute.time([&] { op.run_cpu(view_of(current, need), in_shape, {next.row(y), next.row_bytes(), box}); });
      });
      current = std::move(next);
    }
    const auto store_start = std::chrono::steady_clock::now();
    parallel_for(job.plan.tasks.size(), job.threads, [&](std::size_t t) {
      const ChunkTask& task = job.plan.tasks[t];
      write.time([&] { sink.write(task, view_of(current, task.out)); });
    });
    BackendReport r = report(job, read, compute, write, most);
    r.store_seconds = seconds_since(store_start);
    return r;
  }

  BackendReport run_tiled(const Job& job, ChunkSink& sink) const override {
    const auto start = std::chrono::steady_clock::now();
    BusySeconds read, compute, write;
    const ops::ImageShape& out_shape = job.plan.output;
    parallel_for(job.plan.tasks.size(), job.workers, [&](std::size_t t) {
      const ChunkTask& task = job.plan.tasks[t];
      try {
        // Decoded on this worker's thread: parallelism is across chunks.
        const HostImage source = read.time([&] { return job.source.read(task.in, 1); });
        if (job.chain.empty()) {  // the identity: the source box is the block's
          write.time([&] { sink.write(task, {source.data(), source.row_bytes(), task.out}); });
          return;
        }
        HostImage result(task.out.height, task.out.width, out_shape.samples, out_shape.dtype);
        compute.time([&] {
          job.chain.run_cpu({source.data(), source.row_bytes(), task.in}, job.plan.input,
                            {result.data(), result.row_bytes(), task.out});
        });
        write.time([&] { sink.write(task, {result.data(), result.row_bytes(), task.out}); });
      } catch (const Error& e) {
        rethrow_with_context(e, concat("chunk (", task.row, ", ", task.col, ")"));
      }
    });
    BackendReport r = report(job, read, compute, write, 0);
    r.store_seconds = seconds_since(start);
    return r;
  }

 private:
  static BackendReport report(const Job& job, const BusySeconds& read, const BusySeconds& compute,
                              const BusySeconds& write, std::size_t bytes_held) {
    BackendReport r;
    r.io = "posix";
    r.io_detail = concat("posix: pread and decode on CPU threads (", job.workers, " block workers, ", job.threads,
                         " threads)");
    if (job.source.slide() != nullptr) {
      r.decode.decoder = "CPU";
      r.decode.detail = "a CPU run decodes its tiles on the CPU";
    }
    r.encoder = "CPU";
    r.encode_detail = "a CPU run compresses on the CPU";
    r.bytes_held = bytes_held;
    r.read_seconds = read.seconds();
    r.compute_seconds = compute.seconds();
    r.write_seconds = write.seconds();
    return r;
  }
};

}  // namespace

void ChunkRows::write_device_rows(const DeviceRows& /*rows*/) {
  throw UsageError("rows in device memory handed to a chunk that takes host rows only");
}

std::optional<DeviceBlockFormat> ChunkSink::device_block_format(std::string* why_not) const {
  if (why_not != nullptr) *why_not = "this sink takes host pixels only";
  return std::nullopt;
}

void ChunkSink::begin_encoded(const ChunkTask& /*task*/) {}

void ChunkSink::store_encoded(const ChunkTask& /*task*/, std::span<const std::byte> /*encoded*/) {
  throw UsageError("an encoded block handed to a sink that encodes its blocks itself");
}

std::uint64_t Backend::global_bytes(const ChunkPlan& plan, const ops::Chain& chain) const {
  const std::vector<ops::ImageShape> shapes = chain.shapes(plan.input);
  const auto bytes = [](const ops::ImageShape& s) { return image_bytes(s.height, s.width, s.samples, s.dtype); };
  std::uint64_t most = bytes(shapes[0]);
  for (std::size_t i = 0; i + 1 < shapes.size(); ++i) {
    const std::uint64_t in = bytes(shapes[i]), out = bytes(shapes[i + 1]);
    most = std::max(most, in > UINT64_MAX - out ? UINT64_MAX : in + out);
  }
  return most;
}

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace tilestream::pipeline
