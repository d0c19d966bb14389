// Dynamic work distribution for parallel_for.
#include "tilestream/core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tilestream {

void parallel_for(std::size_t count, unsigned threads, const std::function<void(std::size_t)>& body) {
  parallel_for_workers(count, threads, [&](std::size_t i, unsigned) { body(i); });
}

void parallel_for_workers(std::size_t count, unsigned threads,
                          const std::function<void(std::size_t, unsigned)>& body) {
  if (count == 0) return;
  const std::size_t workers = std::min<std::size_t>(std::max(1u, threads), count);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  // The error of the lowest index that failed: every index below a failing one was claimed before it
  // (indices are claimed in order) and runs to its end, so that error is the same in every run.
  std::exception_ptr first_error;
  std::size_t error_index = count;
  std::mutex error_mutex;

  auto work = [&](unsigned worker) {
    while (!failed.load(std::memory_order_relaxed)) {
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= count) return;
      try {
        body(i, worker);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (i < error_index) {
          first_error = std::current_exception();
          error_index = i;
        }
        failed = true;
      }
    }
  };

  std::vector<std::jthread> pool;
  pool.reserve(workers - 1);
  for (std::size_t t = 1; t < workers; ++t) pool.emplace_back(work, static_cast<unsigned>(t));
  work(0);
  pool.clear();  // joins
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace tilestream
