// Groups raw tiles into read tasks and back-to-back runs; see the header for the rules.
#include "tilestream/slide/tile_read_plan.hpp"

#include <algorithm>
#include <numeric>

#include "tilestream/core/error.hpp"

namespace tilestream::slide {

std::vector<TileReadTask> plan_tile_reads(std::span<const TileSlot> slots, std::span<const std::uint64_t> offsets,
                                          const TileReadLimits& limits) {
  check<UsageError>(offsets.size() == slots.size(), "plan_tile_reads: ", slots.size(), " tiles but ",
                    offsets.size(), " offsets");
  check<UsageError>(limits.tile_bytes > 0 && limits.max_tiles > 0 && limits.max_read >= limits.tile_bytes,
                    "plan_tile_reads: limits of ", limits.max_tiles, " tiles and ", limits.max_read,
                    " bytes cannot hold one tile of ", limits.tile_bytes, " bytes");
  std::vector<std::size_t> order(slots.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return offsets[a] < offsets[b]; });

  std::vector<TileReadTask> tasks;
  std::uint64_t end = 0;  // end of the current task's read
  for (const std::size_t i : order) {
    const std::uint64_t offset = offsets[i];
    const std::uint64_t tile_end = offset + limits.tile_bytes;
    bool joins = false;
    if (!tasks.empty()) {
      const TileReadTask& task = tasks.back();
      const std::uint64_t grown_end = std::max(end, tile_end);
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
    const bool extends_run = !task.runs.empty() &&
                             task.runs.back().file_offset + task.runs.back().count * limits.tile_bytes == offset;
    if (extends_run) {
      ++task.runs.back().count;
    } else {
      task.runs.push_back(TileRun{position, 1, offset});
    }
    end = std::max(end, tile_end);
    task.length = static_cast<std::size_t>(end - task.offset);
  }
  return tasks;
}

}  // namespace tilestream::slide
