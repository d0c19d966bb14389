// Runs an indexed loop on a fixed number of threads, propagating the first exception.
#pragma once

#include <cstddef>
#include <functional>

namespace tilestream {

// Calls body(i) for every i in [0, count) on up to `threads` threads (the calling thread is one).
// Work is handed out dynamically. After the first exception no new items start; it is rethrown
// once all threads have stopped.
void parallel_for(std::size_t count, unsigned threads, const std::function<void(std::size_t)>& body);

}  // namespace tilestream
