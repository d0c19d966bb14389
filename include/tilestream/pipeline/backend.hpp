// Where the ops of a processing run execute. The pipeline (pipeline.hpp) plans the chunks, prepares
// the Zarr array and hands each finished chunk's pixels to a ChunkSink; a Backend produces those
// pixels, in global mode (the whole level in memory, each op applied to the whole image) or in tiled
// mode (each chunk's source box read, processed and handed over, a bounded number at a time). The CPU
// backend is here; a device backend implements the same two calls.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "tilestream/ops/chain.hpp"
#include "tilestream/pipeline/plan.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::pipeline {

// Receives finished output chunks: pads them to the Zarr chunk, encodes and stores them.
// Thread-safe: workers call write() concurrently.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  // `pixels` covers exactly task.out of the output image, interleaved (y, x, c), host memory.
  virtual void write(const ChunkTask& task, const ops::ConstTileView& pixels) = 0;
};

// What a backend runs: the chain on one slide level, chunk by chunk as planned.
struct Job {
  const slide::Slide& slide;
  std::size_t level;
  const ops::Chain& chain;
  const ChunkPlan& plan;
  unsigned threads;  // CPU threads for loops over bands or chunks
  unsigned workers;  // tiled mode: chunks in flight at once (set by the memory budget)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // "cpu"
  // Global mode: reads the whole level, applies each op to the whole image in turn, then hands every
  // planned chunk of the result to `sink`. Returns the most bytes of images it held at once.
  virtual std::size_t run_global(const Job& job, ChunkSink& sink) const = 0;
  // Tiled mode: for each planned task, reads task.in from the level, runs the chain and hands the
  // result to `sink`, with at most job.workers tasks in flight.
  virtual void run_tiled(const Job& job, ChunkSink& sink) const = 0;
};

// Ops on the CPU (Op::run_cpu), levels read with Slide::read_region.
std::unique_ptr<Backend> make_cpu_backend();

}  // namespace tilestream::pipeline
