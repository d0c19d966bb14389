// Runs an indexed loop on a fixed number of threads, propagating the first exception.
#pragma once

#include <cstddef>
#include <functional>

namespace tilestream {

// Calls body(i) for every i in [0, count) on up to `threads` threads (the calling thread is one).
// Work is handed out dynamically, in index order. After an exception no new items start; once all
// threads have stopped, the exception of the lowest failing index is rethrown, so that a run with
// several failing items reports the same one every time, whatever the threads' timing.
void parallel_for(std::size_t count, unsigned threads, const std::function<void(std::size_t)>& body);

// The same, passing also the worker's number in [0, min(threads, count)), so that each worker can
// own scratch buffers indexed by it.
void parallel_for_workers(std::size_t count, unsigned threads,
                          const std::function<void(std::size_t index, unsigned worker)>& body);

}  // namespace tilestream
