// convert_slide(): plans the datasets, prepares the store (refuse / clear / resume), then writes
// each dataset's blocks on a fixed pool of workers, largest dataset first, and the root group last.
//
// Order and crash safety: every value goes through Store::put (temporary file + rename), so a key
// that exists holds a complete value. Each array's metadata is written before its blocks (by the
// ArrayWriter constructor); the root group (.zgroup/.zattrs or zarr.json, with the OME multiscales)
// is written after the last block, so a store whose root metadata exists is complete. Everything
// written is a pure function of the slide and the options, so --resume (which keeps the blocks that
// exist and writes the rest) ends with the same bytes as one uninterrupted run.
//
// Memory: each worker holds one block (plus one band of source pixels and the encoded block) at a
// time, so peak memory is about threads x 3 blocks whatever the slide's size.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "convert/block_source.hpp"
#include "tilestream/convert/plan.hpp"
#include "tilestream/convert/prepare.hpp"
#include "tilestream/convert/convert.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/zarr/ome.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::convert {
namespace {

using Clock = std::chrono::steady_clock;

// Runs body(i) for i in [0, count) on `threads` workers taking the next index from a shared counter,
// while the calling thread reports progress every `interval`. The first exception stops the
// workers and is rethrown after they have all finished.
void run_workers(std::uint64_t count, unsigned threads, const std::function<void(std::uint64_t)>& body,
                 const std::function<void()>& report) {
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;
  std::condition_variable finished_cv;
  unsigned finished = 0;
  const unsigned workers = static_cast<unsigned>(std::min<std::uint64_t>(threads, count));
  {
    std::vector<std::jthread> pool;
    pool.reserve(workers);
    for (unsigned t = 0; t < workers; ++t)
      pool.emplace_back([&] {
        try {
          for (std::uint64_t i = next++; i < count && !failed; i = next++) body(i);
        } catch (...) {
          const std::lock_guard lock(mutex);
          if (!error) error = std::current_exception();
          failed = true;
        }
        const std::lock_guard lock(mutex);
        ++finished;
        finished_cv.notify_all();
      });
    std::unique_lock lock(mutex);
    while (finished < workers) {
      finished_cv.wait_for(lock, std::chrono::milliseconds(200));
      lock.unlock();
      report();
      lock.lock();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace

ConvertResult convert_slide(const slide::Slide& slide, const std::string& output,
                            const ConvertOptions& options,
                            const std::function<void(const Progress&)>& on_progress) {
  const auto start = Clock::now();
  const PreparedConversion prepared = prepare_conversion(slide, options);
  const Layout layout = prepared.layout;
  const AxisOrder axes = axis_order(layout);
  const std::vector<DatasetPlan>& plan = prepared.plan;
  const std::vector<zarr::ArraySpec>& specs = prepared.specs;
  zarr::FileStore store(output, zarr::FileStore::Options{options.fsync});
  prepare_store(store, prepared, options);

  ConvertResult result;
  std::atomic<std::uint64_t> done{0}, skipped{0}, bytes{0};
  std::uint64_t total = 0;
  for (const zarr::ArraySpec& spec : specs) {
    const auto grid = spec.grid_shape();
    total += grid[axes.y] * grid[axes.x];
  }
  const auto snapshot = [&] {
    Progress p;
    p.blocks_total = total;
    p.blocks_done = done;
    p.blocks_skipped = skipped;
    p.bytes_written = bytes;
    return p;
  };
  const auto report = [&] {
    if (on_progress) on_progress(snapshot());
  };
  const unsigned threads = resolve_threads(options.threads);

  std::unique_ptr<zarr::ArrayReader> previous;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const DatasetPlan& dataset = plan[i];
    const zarr::ArrayWriter writer(store, dataset.path, specs[i]);
    const zarr::ArraySpec& spec = writer.spec();
    std::unique_ptr<RegionSource> source =
        dataset.slide_level ? cast_source(slide_level_source(slide, *dataset.slide_level), spec.dtype)
                            : downsampled_source(*previous, layout);
    check<UsageError>(source->width() == dataset.width && source->height() == dataset.height, "dataset ",
                      dataset.path, ": planned ", dataset.width, "x", dataset.height, ", source gives ",
                      source->width(), "x", source->height());
    // Read sources in bands of whole chunks (and whole slide tiles), not whole shards.
    const std::uint64_t chunk_h = spec.chunk_shape[axes.y];
    std::uint64_t band = chunk_h;
    if (dataset.slide_level)
      while (band < slide.level(*dataset.slide_level).image.tile_height) band += chunk_h;
    const auto grid = spec.grid_shape();
    const std::uint64_t grid_x = grid[axes.x];
    run_workers(
        grid[axes.y] * grid_x, threads,
        [&](std::uint64_t index) {
          std::vector<std::uint64_t> coords(3, 0);
          coords[axes.y] = index / grid_x;
          coords[axes.x] = index % grid_x;
          const std::string key = writer.key(coords);
          try {
            if (options.resume && store.exists(key)) {
              ++skipped;
            } else {
              const std::vector<std::byte> block =
                  assemble_block(*source, spec, layout, coords[axes.y], coords[axes.x], band);
              const std::vector<std::byte> encoded = writer.encoder().encode_block(block);
              writer.store_block(coords, encoded);
              bytes += encoded.size();
            }
          } catch (const Error& e) {
            rethrow_with_context(e, concat("converting block ", key, " of ", store.name()));
          }
          ++done;
        },
        report);
    result.array_paths.push_back(dataset.path);
    source.reset();
    previous = std::make_unique<zarr::ArrayReader>(store, dataset.path);
  }
  zarr::write_group(store, "", options.zarr_version, prepared.group_attributes);
  report();
  result.progress = snapshot();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace tilestream::convert
