// Runs an indexed loop on a fixed number of threads, propagating the first exception.
#pragma once

#include <cstddef>
#include <functional>

namespace tilestream {

// Calls body(i) for every i in [0, count) on up to `threads` threads (the calling thread is one).
// Work is handed out dynamically. After the first exception no new items start; it is rethrown
// once all threads have stopped.
void parallel_for(std::size_t count, unsigned threads, const std::function<void(std::size_t)>& body);

// The same, passing also the worker's number in [0, min(threads, count)), so that each worker can
// own scratch buffers indexed by it.
void parallel_for_workers(std::size_t count, unsigned threads,
                          const std::function<void(std::size_t index, unsigned worker)>& body);

}  // namespace tilestream
