// Planning the reads of raw (uncompressed) tiles for the device read path: tiles sorted by file
// offset and grouped into tasks, each one read of neighbouring tiles (gaps between them included)
// that fills one staging buffer; inside a task, tiles that lie back to back in the file form runs
// that travel to the device as one copy. A read may want only part of a tile (the rows of a chunky
// tile that a region covers: a halo's one row of the tile above): then only those bytes are read, and
// they land where they lie in the tile's slot. Pure planning: no I/O, so it is tested on the CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tilestream/slide/place_tiles.hpp"

namespace tilestream::slide {

// Tiles [first, first + count) of a task lie back to back in the file from `file_offset`: `bytes`
// bytes that land in the tile buffer at first * tile_bytes + skip (skip > 0 where the first tile is
// read from inside; a run of whole tiles has skip 0 and bytes count * tile_bytes).
struct TileRun {
  std::size_t first = 0;
  std::size_t count = 0;
  std::uint64_t file_offset = 0;
  std::size_t skip = 0;
  std::size_t bytes = 0;
};

// The bytes [begin, end) of a stored tile that a read wants, from the tile's first byte.
struct TilePart {
  std::size_t begin = 0;
  std::size_t end = 0;
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

// `offsets[i]` is the file offset of slots[i]'s tile, `parts[i]` the part of it wanted (no parts:
// every tile whole). Tiles are taken by the offset of their wanted part; the next tile joins the
// current task while the task holds fewer than max_tiles, its part starts at most max_gap bytes after
// the task's end (parts that overlap or repeat an offset join too) and the grown read stays within
// max_read. A tile extends the last run where its part follows the run's bytes both in the file and
// in the tile buffer. Throws UsageError for limits that cannot hold one tile, for offsets or parts
// that do not match the slots one to one, and for an empty part or one past the tile's end.
std::vector<TileReadTask> plan_tile_reads(std::span<const TileSlot> slots, std::span<const std::uint64_t> offsets,
                                          const TileReadLimits& limits, std::span<const TilePart> parts = {});

}  // namespace tilestream::slide
