// Planning the reads of raw (uncompressed) tiles for the device read path: tiles sorted by file
// offset and grouped into tasks, each one read of neighbouring tiles (gaps between them included)
// that fills one staging buffer; inside a task, tiles that lie back to back in the file form runs
// that travel to the device as one copy. Pure planning: no I/O, so it is tested on the CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tilestream/slide/place_tiles.hpp"

namespace tilestream::slide {

// Tiles [first, first + count) of a task lie back to back in the file from `file_offset`.
struct TileRun {
  std::size_t first = 0;
  std::size_t count = 0;
  std::uint64_t file_offset = 0;
};

struct TileReadTask {
  std::uint64_t offset = 0;     // the one read covering every tile of the task, gaps included
  std::size_t length = 0;
  std::vector<TileSlot> slots;  // the task's tiles in buffer order: tile i lands at i * tile_bytes
  std::vector<TileRun> runs;    // in buffer order, covering every slot once
};

struct TileReadLimits {
  std::size_t tile_bytes = 0;   // bytes of one stored tile
  std::size_t max_tiles = 1;    // tiles one task's device buffer holds (at least 1)
  std::size_t max_read = 0;     // bytes one task may read, gaps included (at least tile_bytes)
  std::uint64_t max_gap = 64 * 1024;  // bytes of other data a read may skip over between tiles
};

// `offsets[i]` is the file offset of slots[i]'s tile. Tiles are taken by increasing offset; the next
// tile joins the current task while the task holds fewer than max_tiles, the tile starts at most
// max_gap bytes after the task's end (tiles that overlap or repeat an offset join too) and the grown
// read stays within max_read. Throws UsageError for limits that cannot hold one tile or for
// offsets.size() != slots.size().
std::vector<TileReadTask> plan_tile_reads(std::span<const TileSlot> slots, std::span<const std::uint64_t> offsets,
                                          const TileReadLimits& limits);

}  // namespace tilestream::slide
