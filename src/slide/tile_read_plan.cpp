// Groups raw tiles into read tasks and back-to-back runs; see the header for the rules.
#include "tilestream/slide/tile_read_plan.hpp"

#include <algorithm>
#include <numeric>

#include "tilestream/core/error.hpp"

namespace tilestream::slide {

std::vector<TileReadTask> plan_tile_reads(std::span<const TileSlot> slots, std::span<const std::uint64_t> offsets,
                                          const TileReadLimits& limits, std::span<const TilePart> parts) {
  check<UsageError>(offsets.size() == slots.size(), "plan_tile_reads: ", slots.size(), " tiles but ",
                    offsets.size(), " offsets");
  check<UsageError>(parts.empty() || parts.size() == slots.size(), "plan_tile_reads: ", slots.size(),
                    " tiles but ", parts.size(), " parts");
  check<UsageError>(limits.tile_bytes > 0 && limits.max_tiles > 0 && limits.max_read >= limits.tile_bytes,
                    "plan_tile_reads: limits of ", limits.max_tiles, " tiles and ", limits.max_read,
                    " bytes cannot hold one tile of ", limits.tile_bytes, " bytes");
  const auto part = [&](std::size_t i) { return parts.empty() ? TilePart{0, limits.tile_bytes} : parts[i]; };
  for (std::size_t i = 0; i < parts.size(); ++i) {
    check<UsageError>(parts[i].begin < parts[i].end && parts[i].end <= limits.tile_bytes, "plan_tile_reads: part ",
                      parts[i].begin, " to ", parts[i].end, " of tile (", slots[i].column, ", ", slots[i].row,
                      ") is empty or past its ", limits.tile_bytes, " bytes");
  }
  std::vector<std::size_t> order(slots.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return offsets[a] + part(a).begin < offsets[b] + part(b).begin; });

  std::vector<TileReadTask> tasks;
  std::uint64_t end = 0;  // end of the current task's read
  for (const std::size_t i : order) {
    const TilePart wanted = part(i);
    const std::uint64_t offset = offsets[i] + wanted.begin;
    const std::uint64_t part_end = offsets[i] + wanted.end;
    bool joins = false;
    if (!tasks.empty()) {
      const TileReadTask& task = tasks.back();
      const std::uint64_t grown_end = std::max(end, part_end);
      joins = task.slots.size() < limits.max_tiles && offset <= end + limits.max_gap &&
              grown_end - task.offset <= limits.max_read;
    }
    if (!joins) {
      tasks.push_back(TileReadTask{offset, 0, {}, {}});
      end = offset;
    }
    TileReadTask& task = tasks.back();
    const std::size_t position = task.slots.size();
    task.slots.push_back(slots[i]);
    const std::size_t bytes = wanted.end - wanted.begin;
    bool extends_run = false;
    if (!task.runs.empty()) {
      const TileRun& run = task.runs.back();
      extends_run = run.file_offset + run.bytes == offset &&
                    run.first * limits.tile_bytes + run.skip + run.bytes == position * limits.tile_bytes + wanted.begin;
    }
    if (extends_run) {
      ++task.runs.back().count;
      task.runs.back().bytes += bytes;
    } else {
      task.runs.push_back(TileRun{position, 1, offset, wanted.begin, bytes});
    }
    end = std::max(end, part_end);
    task.length = static_cast<std::size_t>(end - task.offset);
  }
  return tasks;
}

}  // namespace tilestream::slide
