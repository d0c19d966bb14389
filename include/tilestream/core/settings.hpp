// Process-wide defaults, read once from the environment; explicit arguments override them.
#pragma once

#include <cstddef>

namespace tilestream {

struct Settings {
  unsigned threads;  // TILESTREAM_THREADS, else std::thread::hardware_concurrency()
  // Bytes one io task moves (a coalesced read of neighbouring tiles, one staging buffer):
  // TILESTREAM_TASK_BYTES, else 8 MiB. Large enough for full-speed reads, small enough that many
  // tasks keep every thread busy.
  std::size_t task_bytes;
};

const Settings& default_settings();

// `requested` when non-zero, else the default thread count.
unsigned resolve_threads(unsigned requested);
// `requested` when non-zero, else the default task size.
std::size_t resolve_task_bytes(std::size_t requested);

}  // namespace tilestream
