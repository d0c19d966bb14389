// Processing a slide level through an op chain into a Zarr array: global mode (the level in memory,
// ops on the whole image) or tiled mode (chunks streamed with their halos, memory bounded by the
// tiles in flight). Both write the same array, bit for bit (ops/op.hpp says why).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tilestream/ops/chain.hpp"
#include "tilestream/pipeline/backend.hpp"
#include "tilestream/pipeline/executor.hpp"
#include "tilestream/zarr/array.hpp"

namespace tilestream::pipeline {

struct ProcessOptions {
  Mode mode = Mode::tiled;
  std::size_t level = 0;
  std::uint64_t chunk = 512;                      // output chunk side (y and x); channels whole
  std::uint64_t shard = 0;                        // v3 shard side, a multiple of chunk; 0: not sharded
  Layout layout = Layout::yxc;                    // of the array(s); `ome` stores (c, y, x)
  bool ome = false;  // an OME-Zarr group: the result as dataset "0" plus its 2x pyramid (downsample2x)
                     // down to the first level that fits in one chunk, NGFF 0.4 (v2) or 0.5 (v3)
  std::size_t memory = 0;                         // tiled: bytes of tiles in flight; 0: settings' default
                                                  // (held to what the backend's memory has available)
  unsigned threads = 0;                           // 0: settings' default
  int zarr_version = 3;                           // 2 or 3
  std::vector<zarr::CompressorSpec> compressors;  // empty: uncompressed
  bool overwrite = false;                         // replace a non-empty output that is a store of ours
  bool resume = false;                            // keep the chunks already written, compute the rest
  std::function<bool()> stop;  // asked before each chunk is written; true stops (RunOptions::stop)
  bool fsync = false;                             // durable output: the store's policy (zarr/store.hpp)
};

struct ProcessProgress {
  std::uint64_t chunks_done = 0;
  std::uint64_t chunks_total = 0;
  std::uint64_t bytes_written = 0;  // encoded chunk bytes stored
};

struct ProcessResult {
  ProcessProgress progress;
  ops::ImageShape input, output;
  std::string backend;
  std::uint64_t chunks_skipped = 0;  // resume: chunks already in the store, kept as they are
  unsigned workers = 0;             // chunks processed at once (tiled), threads (global)
  std::size_t task_bytes = 0;       // tiled: bytes one chunk in flight holds at most
  std::size_t bytes_in_flight = 0;  // tiled: workers x group x task_bytes; global: the most image bytes held
  BackendReport run;                // what the backend measured on the result (io mode, device peak, stage seconds)
  RunReport report;                 // every dataset's (one, or the OME pyramid's)
  double seconds = 0;
};

// The result's array: image_array_spec of the chain's output with the options' chunk, shard, codecs
// and layout, attributes naming the ops and the source level.
zarr::ArraySpec output_array_spec(const ChunkPlan& plan, const ops::Chain& chain,
                                  const ProcessOptions& options, const std::string& source_name);

// Runs `chain` on level options.level of `slide` and writes the result as a Zarr array at the root of
// the directory `output` (with `ome`: as dataset "0" of an OME-Zarr group, its pyramid after it), a
// plan of the one engine (executor.hpp). Throws UsageError for bad options (chunk 0, a level that does not exist, a
// non-empty output without overwrite or resume, overwrite with resume, resume into an array whose
// stored metadata differs from this run's, with overwrite or resume an output holding anything but a
// store of ours (zarr/store_ownership.hpp), an output that is a file, /, $HOME or the current
// directory, a memory budget below one chunk's tiles, an input the chain does not take), ResourceError
// before touching the output when global mode's images (or one tiled chunk in flight) exceed the
// memory the backend has available (Backend::memory_available), and whatever reading, processing or
// writing throws, with the chunk named. With resume, leftover partial files of ours are removed and
// only the chunks missing from the store are computed; every chunk is a pure function of the slide and
// the options, so the store ends equal to one uninterrupted run's.
// on_progress is called from worker threads, one call at a time, at most every 200 ms, and once at
// the end.
ProcessResult process_slide(const slide::Slide& slide, const std::string& output, const ops::Chain& chain,
                            const ProcessOptions& options, const Backend& backend,
                            const std::function<void(const ProcessProgress&)>& on_progress = {});

}  // namespace tilestream::pipeline
