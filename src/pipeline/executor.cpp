// run_plan: every dataset planned and its memory checked before the store is touched, then written in
// order through the backend and the block sink; the root group last.
#include "tilestream/pipeline/executor.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include "pipeline/zarr_chunk_sink.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/memory_budget.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/core/timing.hpp"
#include "tilestream/pipeline/source.hpp"

namespace tilestream::pipeline {

const char* to_string(Mode mode) { return mode == Mode::global ? "global" : "tiled"; }

Mode parse_mode(const std::string& text) {
  if (text == "global") return Mode::global;
  if (text == "tiled") return Mode::tiled;
  throw UsageError(concat(option("mode"), " must be global or tiled, not '", text, "'"));
}

namespace {

// One dataset's blocks and workers, decided before anything is written.
struct Scheduled {
  ChunkPlan blocks;
  std::string source_name;
  unsigned workers = 0;
  unsigned group = 1;  // tiled: tasks a worker takes at once
  std::size_t task_bytes = 0;
};

// The image a dataset's source gives: a slide level's, or the earlier dataset's array seen through its
// layout.
ops::ImageShape source_shape(const slide::Slide& slide, const Plan& plan, std::size_t i, std::size_t* tile_bytes) {
  const Dataset& d = plan.datasets[i];
  if (d.slide_level) {
    check<UsageError>(*d.slide_level < slide.level_count(), slide.path(), ": no level ", *d.slide_level,
                      " (the slide has ", slide.level_count(), ")");
    const tiff::ImageInfo& image = slide.level(*d.slide_level).image;
    check<UsageError>(image.unsupported_reason.empty(), image.unsupported_reason);
    const ops::ImageShape shape{image.height, image.width, image.samples, image.dtype};
    *tile_bytes = static_cast<std::size_t>(image.tile_width) * image.tile_height * shape.pixel_bytes();
    return shape;
  }
  check<UsageError>(d.earlier < i, "dataset ", d.path, ": its source, dataset ", d.earlier, ", is not written before it");
  const Dataset& from = plan.datasets[d.earlier];
  const AxisOrder axes = axis_order(from.layout);
  const ops::ImageShape shape{from.spec.shape[axes.y], from.spec.shape[axes.x],
                              static_cast<std::uint32_t>(from.spec.shape[axes.c]), from.spec.dtype};
  *tile_bytes = shape.pixel_bytes();
  for (std::size_t axis : {axes.y, axes.x}) *tile_bytes *= from.spec.block_shape()[axis];
  return shape;
}

Scheduled schedule(const slide::Slide& slide, const Plan& plan, std::size_t i, const Backend& backend,
                   const RunOptions& options, unsigned threads, const MemoryAvailable& available) {
  const Dataset& d = plan.datasets[i];
  Scheduled s;
  std::size_t tile_bytes = 0;
  const ops::ImageShape input = source_shape(slide, plan, i, &tile_bytes);
  s.source_name = d.slide_level ? concat("level ", *d.slide_level)
                                : concat("array '", plan.datasets[d.earlier].path, "'");
  const AxisOrder axes = axis_order(d.layout);
  check<UsageError>(d.spec.shape.size() == 3 && d.spec.block_shape().size() == 3, "dataset '", d.path,
                    "': an image array has 3 axes");
  try {
    s.blocks = plan_blocks(d.chain, input, d.spec.block_shape()[axes.y], d.spec.block_shape()[axes.x]);
  } catch (const Error& e) {
    rethrow_with_context(e, concat(slide.path(), " ", s.source_name));
  }
  const ops::ImageShape& out = s.blocks.output;
  check<UsageError>(out.height == d.spec.shape[axes.y] && out.width == d.spec.shape[axes.x] &&
                        out.samples == d.spec.shape[axes.c] && out.dtype == d.spec.dtype,
                    "dataset '", d.path, "': ", d.chain.empty() ? "its source" : d.chain.spec(), " gives ", out.width,
                    "x", out.height, "x", out.samples, " ", to_string(out.dtype), ", its array holds ",
                    d.spec.shape[axes.x], "x", d.spec.shape[axes.y], "x", d.spec.shape[axes.c], " ",
                    to_string(d.spec.dtype));
  // Checked against the memory available now, before the output is touched: the OOM killer ends a
  // run that outgrows it without a word.
  s.workers = threads;
  if (options.mode == Mode::global) {
    check_memory({.file = slide.path(),
                  .place = s.source_name,
                  .what = concat("global mode on ", backend.name(),
                                 d.slide_level ? " (the whole level, and each op's whole input and output)"
                                               : " (the whole array, and each op's whole input and output)"),
                  .bytes = backend.global_bytes(s.blocks, d.chain),
                  .ways_out = {WayOut::tiled_mode, WayOut::memory_budget}},
                 available);
    return s;
  }
  s.task_bytes = backend.tiled_task_bytes(s.blocks, d.chain, tile_bytes);
  const std::size_t memory = resolve_memory_bytes(options.memory);
  check<UsageError>(memory >= s.task_bytes, option("memory"), " ", memory, " bytes is less than one ", s.blocks.chunk_width,
                    "x", s.blocks.chunk_height, " chunk's tiles in flight (", s.task_bytes,
                    " bytes with its halo and intermediates on ", backend.name(), "): raise ", option("memory"), " or lower ", option("chunk"));
  check_memory({.file = slide.path(),
                .place = s.source_name,
                .what = concat("tiled mode on ", backend.name(), ": one ", s.blocks.chunk_width, "x",
                               s.blocks.chunk_height, " chunk in flight"),
                .bytes = s.task_bytes,
                .ways_out = {WayOut::smaller_chunk}},
               available);
  // The budget, as far as the memory available now holds it.
  s.workers = static_cast<unsigned>(std::min<std::uint64_t>({threads, memory / s.task_bytes,
                                                              available.bytes / s.task_bytes,
                                                              std::max<std::size_t>(1, s.blocks.tasks.size())}));
  const std::uint64_t held = std::uint64_t{s.workers} * s.task_bytes;
  s.group = static_cast<unsigned>(std::max<std::uint64_t>(
      1, std::min<std::uint64_t>({backend.tiled_group(), memory / held, available.bytes / held})));
  return s;
}

}  // namespace

RunReport run_plan(const slide::Slide& slide, const Plan& plan, zarr::FileStore& store, const Backend& backend,
                   const RunOptions& options, const std::function<void(const RunProgress&)>& on_progress) {
  const auto start = std::chrono::steady_clock::now();
  check<UsageError>(!(options.overwrite && options.resume), option("overwrite"), " and ", option("resume"),
                    " contradict each other: pick one");
  check<UsageError>(!plan.datasets.empty(), "a run needs at least one dataset");
  const unsigned threads = resolve_threads(options.threads);
  const MemoryAvailable available = backend.memory_available();
  std::vector<Scheduled> scheduled;
  RunReport report;
  report.backend = backend.name();
  for (std::size_t i = 0; i < plan.datasets.size(); ++i) {
    scheduled.push_back(schedule(slide, plan, i, backend, options, threads, available));
    report.progress.blocks_total += scheduled.back().blocks.tasks.size();
  }
  prepare_output(store, plan, options.overwrite, options.resume);

  // Readers of the arrays later datasets are built from, opened when first needed (they are complete
  // by then: datasets are written in order).
  std::vector<std::unique_ptr<zarr::ArrayReader>> written(plan.datasets.size());
  for (std::size_t i = 0; i < plan.datasets.size(); ++i) {
    const Dataset& d = plan.datasets[i];
    Scheduled& s = scheduled[i];
    const auto dataset_start = std::chrono::steady_clock::now();
    DatasetReport r;
    r.path = d.path;
    r.input = s.blocks.input;
    r.output = s.blocks.output;
    r.blocks = s.blocks.tasks.size();
    r.workers = s.workers;
    r.task_bytes = s.task_bytes;
    r.group = s.group;
    const zarr::ArrayWriter writer(store, d.path, d.spec);  // the array's metadata, before its blocks
    const RunProgress before = report.progress;
    if (options.resume) {
      // Blocks in the store are whole (committed under their key only once complete): keep them.
      std::erase_if(s.blocks.tasks,
                    [&](const ChunkTask& task) { return store.exists(writer.key(block_coords(task, d.layout))); });
      r.blocks_skipped = r.blocks - s.blocks.tasks.size();
    }
    const auto progress = [&](const ProcessProgress& p) {
      if (!on_progress) return;
      RunProgress now = before;
      now.blocks_done += r.blocks_skipped + p.chunks_done;
      now.blocks_skipped += r.blocks_skipped;
      now.bytes_written += p.bytes_written;
      on_progress(now);
    };
    ZarrChunkSink sink(store, writer, s.blocks, d.layout, threads, 0, progress, backend.device_file_writers());
    sink.stop_when(options.stop);
    if (!d.slide_level && !written[d.earlier])
      written[d.earlier] = std::make_unique<zarr::ArrayReader>(store, plan.datasets[d.earlier].path);
    std::unique_ptr<Source> source =
        d.slide_level ? slide_level_source(slide, *d.slide_level)
                      : array_source(*written[d.earlier], plan.datasets[d.earlier].layout,
                                     concat(store.name(), "/", plan.datasets[d.earlier].path));
    const Job job{*source, d.chain, s.blocks, threads, s.workers, s.group};
    try {
      if (s.blocks.tasks.empty()) {
        r.run.io_detail = "nothing read: every block was already in the store";
      } else if (options.mode == Mode::global) {
        r.run = backend.run_global(job, sink);
        r.bytes_in_flight = r.run.bytes_held;
      } else {
        r.run = backend.run_tiled(job, sink);
        r.bytes_in_flight = static_cast<std::size_t>(s.workers) * s.group * s.task_bytes;
      }
      const auto flush_start = std::chrono::steady_clock::now();
      sink.flush();
      r.flush_seconds = seconds_since(flush_start);
    } catch (const Error& e) {
      if (plan.datasets.size() == 1) throw;
      rethrow_with_context(e, concat("dataset '", d.path, "' from ", slide.path(), " ", s.source_name));
    }
    sink.report(true);
    const ProcessProgress done = sink.snapshot();
    r.blocks_from_device = sink.blocks_from_device();
    report.progress.blocks_done += r.blocks;
    report.progress.blocks_skipped += r.blocks_skipped;
    report.progress.bytes_written += done.bytes_written;
    r.seconds = seconds_since(dataset_start);
    report.datasets.push_back(std::move(r));
  }
  if (plan.root_group) zarr::write_group(store, "", plan.zarr_version, *plan.root_group);
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace tilestream::pipeline
