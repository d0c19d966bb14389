// Process-wide defaults, read once from the environment; explicit arguments override them.
#pragma once

namespace tilestream {

struct Settings {
  unsigned threads;  // TILESTREAM_THREADS, else std::thread::hardware_concurrency()
};

const Settings& default_settings();

// `requested` when non-zero, else the default thread count.
unsigned resolve_threads(unsigned requested);

}  // namespace tilestream
