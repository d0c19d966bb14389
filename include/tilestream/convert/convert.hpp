// Slide to Zarr conversion: decodes tiles, cuts Zarr blocks, encodes and stores them in parallel
// with a bounded number of blocks in flight, so memory never grows with the slide's size.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tilestream/slide/slide.hpp"
#include "tilestream/zarr/array.hpp"

namespace tilestream::convert {

enum class Layout { yxc, cyx };

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
  bool overwrite = false;  // replace a non-empty output, if it is a store of ours (store_ownership.hpp)
  bool resume = false;     // keep blocks already written, write the rest
  bool fsync = false;
  char separator = '/';  // v2 dimension_separator
  // The stored sample type; nullopt: the slide's. Conversions are exact (core/cast.hpp): any type to
  // float32, values kept (no scaling).
  std::optional<DType> dtype;
};

struct Progress {
  std::uint64_t blocks_done = 0;
  std::uint64_t blocks_total = 0;
  std::uint64_t blocks_skipped = 0;  // already present (resume)
  std::uint64_t bytes_written = 0;   // encoded bytes stored
};

struct ConvertResult {
  Progress progress;
  double seconds = 0;
  std::vector<std::string> array_paths;  // written arrays, largest first
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
ConvertResult convert_slide(const slide::Slide& slide, const std::string& output,
                            const ConvertOptions& options,
                            const std::function<void(const Progress&)>& on_progress = {});

}  // namespace tilestream::convert
