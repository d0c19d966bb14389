// The one engine: a run is a plan of output datasets (Zarr arrays), each a source (a slide level, or a
// dataset the same plan wrote before it) through an op chain (a dtype cast, downsample2x, the user's
// ops, or none) into its array (path, dtype, block, codecs, layout). run_plan runs them in order
// through a Backend (cpu, cuda) in global or tiled mode under a memory budget, every block through the
// one block sink (zarr_chunk_sink.hpp), and writes the root group last. `convert` and `process` are
// plans of it (convert/plan.hpp, pipeline.hpp).
//
// Order and crash safety: each array's metadata is written before its blocks, every block is
// committed whole (the store's streaming write: temporary file, rename), the root group after the
// last block. Every block is a pure function of the slide and the plan, so a resumed run (which keeps
// the blocks that exist) ends with the bytes of one uninterrupted run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tilestream/ops/chain.hpp"
#include "tilestream/pipeline/backend.hpp"
#include "tilestream/pipeline/plan.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/zarr/array.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::pipeline {

enum class Mode { global, tiled };
const char* to_string(Mode mode);
// "global" or "tiled"; UsageError otherwise.
Mode parse_mode(const std::string& text);

struct Dataset {
  std::string path;                        // array path in the store ("" for the root)
  std::optional<std::size_t> slide_level;  // the source: this level of the slide, or (nullopt) ...
  std::size_t earlier = 0;                 // ... the array of datasets[earlier], written before this one
  ops::Chain chain;                        // source pixels to the array's (empty: copied as they are)
  zarr::ArraySpec spec;                    // its shape and dtype are the chain's output, laid out as `layout`
  Layout layout = Layout::yxc;
};

struct Plan {
  std::vector<Dataset> datasets;  // in the order they are written
  int zarr_version = 3;
  // The root group's attributes (OME multiscales), written after the last block; nullopt: no group
  // (a single array at the root).
  std::optional<nlohmann::json> root_group;
};

struct RunOptions {
  Mode mode = Mode::tiled;
  std::size_t memory = 0;  // tiled: bytes of blocks in flight; 0: the settings' default (held to what
                           // the backend's memory has available)
  unsigned threads = 0;    // 0: the settings' default
  bool overwrite = false;  // replace a non-empty output, if it is a store of ours (store_ownership.hpp)
  bool resume = false;     // keep the blocks already written, write the rest
  // Asked before each block is written, from worker threads at once (so it must be thread-safe and
  // quick); true stops the run with StoppedError after the blocks being written are committed. What
  // is committed stays, and a resumed run finishes the store. Unset: the run goes to its end.
  std::function<bool()> stop;
};

struct RunProgress {
  std::uint64_t blocks_done = 0;     // of every dataset so far, skipped ones included
  std::uint64_t blocks_total = 0;    // of every dataset of the plan
  std::uint64_t blocks_skipped = 0;  // resume: already in the store, kept
  std::uint64_t bytes_written = 0;   // encoded block bytes stored
};

struct DatasetReport {
  std::string path;
  ops::ImageShape input, output;
  std::uint64_t blocks = 0, blocks_skipped = 0;
  std::uint64_t blocks_from_device = 0;  // written from device memory (the CUDA backend's gds writes)
  unsigned workers = 0;             // blocks processed at once (tiled), threads (global)
  std::size_t task_bytes = 0;       // tiled: bytes one block in flight holds at most
  unsigned group = 1;               // tiled: tasks one worker takes at once (adjacent blocks of a row)
  std::size_t bytes_in_flight = 0;  // tiled: workers x group x task_bytes; global: the most image bytes held
  BackendReport run;                // what the backend measured
  double flush_seconds = 0;         // the wait for commits still syncing after the last block (fsync)
  double seconds = 0;
};

struct RunReport {
  std::string backend;
  std::vector<DatasetReport> datasets;
  RunProgress progress;
  double seconds = 0;
};

// Runs `plan` on `slide` into `store` (a directory store; its fsync policy is the run's). Before the
// store is touched: UsageError for a bad plan (an earlier dataset that is not earlier, a chain whose
// output is not its array's shape and dtype, --memory below one block's needs, overwrite with
// resume), ResourceError when global mode's images (or one tiled block) exceed the memory the backend
// has available; then the store is made ready (prepare_output), and each dataset's blocks written.
// on_progress is called from worker threads, one call at a time, at most every 200 ms, and once at
// the end of each dataset.
RunReport run_plan(const slide::Slide& slide, const Plan& plan, zarr::FileStore& store, const Backend& backend,
                   const RunOptions& options, const std::function<void(const RunProgress&)>& on_progress = {});

// Makes `store` ready for `plan`: an empty store is used as is; a non-empty one is refused unless
// overwrite (it is cleared) or resume (partial files removed, after checking that every array and the
// root group already stored were written with this plan's metadata: "other options" otherwise); with
// either, only a store of ours (zarr/store_ownership.hpp) is touched. UsageError also for an output
// that is a file, /, $HOME or the current directory.
void prepare_output(zarr::FileStore& store, const Plan& plan, bool overwrite, bool resume);
// The metadata check of resume alone, on any store (tests and the fuzz target feed it bytes): UsageError
// for the other Zarr version, array metadata or group attributes that differ from the plan's, invalid
// JSON; FormatError for a group document that is not an object.
void check_resumable(const zarr::Store& store, const Plan& plan);

}  // namespace tilestream::pipeline
