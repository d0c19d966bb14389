// Slide to Zarr conversion, as a plan of the one engine (pipeline/executor.hpp): each dataset is a
// stored level (cast to the stored dtype where it differs) or a level built by downsample2x from the
// dataset before it, run by a backend (cpu, cuda) in tiled mode under a memory budget by default, so
// memory never grows with the slide's size.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tilestream/pipeline/backend.hpp"
#include "tilestream/pipeline/executor.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/zarr/array.hpp"

namespace tilestream::convert {

using Layout = pipeline::Layout;

struct ConvertOptions {
  int zarr_version = 3;
  std::uint64_t chunk = 512;                      // chunk side (y and x); the channel axis is one chunk
  std::uint64_t shard = 0;                        // v3 shard side, a multiple of chunk; 0: not sharded
  std::vector<zarr::CompressorSpec> compressors;  // empty: uncompressed
  Layout layout = Layout::yxc;
  bool ome = false;  // OME-Zarr group with multiscales (implies cyx)
  // Slide levels to write; empty: all of them, or with `ome` a full 2x pyramid (dataset k at
  // ceil(level0 / 2^k), a stored level where one matches within one pixel, else built by 2x area
  // downsampling of dataset k-1) down to the first dataset that fits in one chunk.
  std::vector<std::size_t> levels;
  unsigned threads = 0;    // 0: default
  pipeline::Mode mode = pipeline::Mode::tiled;  // global: each source whole in the backend's memory
  std::size_t memory = 0;  // tiled: bytes of blocks in flight; 0: the settings' default
  bool overwrite = false;  // replace a non-empty output, if it is a store of ours (store_ownership.hpp)
  bool resume = false;     // keep blocks already written, write the rest
  std::function<bool()> stop;  // asked before each block is written; true stops (pipeline::RunOptions::stop)
  bool fsync = false;
  char separator = '/';  // v2 dimension_separator
  // The stored sample type; nullopt: the slide's. Conversions are exact (core/cast.hpp): any type to
  // float32, values kept (no scaling).
  std::optional<DType> dtype;
};

using Progress = pipeline::RunProgress;

struct ConvertResult {
  Progress progress;
  double seconds = 0;
  std::vector<std::string> array_paths;  // written arrays, largest first
  pipeline::RunReport run;               // per dataset: workers, io mode, stage seconds, device peak
};

// The layout actually written: OME-Zarr always stores (c, y, x), as NGFF orders axes.
inline Layout effective_layout(const ConvertOptions& options) {
  return options.ome ? Layout::cyx : options.layout;
}

// Throws UsageError naming the first bad combination: a shard with Zarr v2, a shard that is not a
// multiple of the chunk, chunk 0, overwrite together with resume, a zarr_version other than 2 or 3,
// more than one compressor on v2, a separator other than '.' or '/'.
void validate_options(const ConvertOptions& options);

// Converts `slide` into the store at `output` (a directory). Throws UsageError when the output
// is not empty and neither overwrite nor resume is set, when it holds anything but a store of ours
// (overwrite, resume), when it is a file, /, $HOME or the current directory (see prepare_store),
// IoError on write failures (the message names the key), and whatever reading the slide throws.
// Runs on `backend`; the first form on the CPU backend.
ConvertResult convert_slide(const slide::Slide& slide, const std::string& output,
                            const ConvertOptions& options,
                            const std::function<void(const Progress&)>& on_progress = {});
ConvertResult convert_slide(const slide::Slide& slide, const std::string& output, const ConvertOptions& options,
                            const pipeline::Backend& backend,
                            const std::function<void(const Progress&)>& on_progress = {});

}  // namespace tilestream::convert
