// Slide to Zarr conversion: decodes tiles, cuts Zarr blocks, encodes and stores them in parallel
// with a bounded number of blocks in flight, so memory never grows with the slide's size.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tilestream/slide/slide.hpp"
#include "tilestream/zarr/array.hpp"

namespace tilestream::convert {

enum class Layout { yxc, cyx };

struct ConvertOptions {
  int zarr_version = 3;
  std::uint64_t chunk = 512;          // chunk side (y and x); the channel axis is one chunk
  std::uint64_t shard = 0;            // v3 shard side, a multiple of chunk; 0: not sharded
  std::vector<zarr::CompressorSpec> compressors;  // empty: uncompressed
  Layout layout = Layout::yxc;
  bool ome = false;                   // OME-Zarr group with multiscales (implies cyx)
  std::vector<std::size_t> levels;    // datasets to write; empty: all (with --ome: a full pyramid)
  unsigned threads = 0;               // 0: default
  bool overwrite = false;             // clear a non-empty output first
  bool resume = false;                // keep blocks already written, write the rest
  bool fsync = false;
  char separator = '/';               // v2 dimension_separator
};

struct Progress {
  std::uint64_t blocks_done = 0;
  std::uint64_t blocks_total = 0;
  std::uint64_t blocks_skipped = 0;   // already present (resume)
  std::uint64_t bytes_written = 0;    // encoded bytes stored
};

struct ConvertResult {
  Progress progress;
  double seconds = 0;
  std::vector<std::string> array_paths;  // written arrays, largest first
};

// Converts `slide` into the store at `output` (a directory). Throws UsageError when the output
// is not empty and neither overwrite nor resume is set, IoError on write failures (the message
// names the key), and whatever reading the slide throws.
ConvertResult convert_slide(const slide::Slide& slide, const std::string& output, const ConvertOptions& options,
                            const std::function<void(const Progress&)>& on_progress = {});

}  // namespace tilestream::convert
