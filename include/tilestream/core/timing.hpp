// Wall-clock timing of the figures tilestream reports.
#pragma once

#include <chrono>

namespace tilestream {

// Seconds of the steady clock since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace tilestream
