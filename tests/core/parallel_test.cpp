// parallel_for runs every index exactly once and propagates the first exception.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "tilestream/core/parallel.hpp"

namespace tilestream {
namespace {

TEST(ParallelFor, RunsEveryIndexOnce) {
  for (unsigned threads : {1u, 2u, 7u}) {
    std::vector<std::atomic<int>> hits(1000);
    std::atomic<unsigned> max_worker{0};
    parallel_for_workers(hits.size(), threads, [&](std::size_t i, unsigned worker) {
      hits[i]++;
      unsigned seen = max_worker.load();
      while (worker > seen && !max_worker.compare_exchange_weak(seen, worker)) {}
    });
    for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
    EXPECT_LT(max_worker.load(), threads);
  }
}

TEST(ParallelFor, RethrowsTheFirstErrorAndStops) {
  std::atomic<int> ran{0};
  EXPECT_THROW(parallel_for(100000, 4,
                            [&](std::size_t i) {
                              ran++;
                              if (i == 10) throw std::runtime_error("tile 10 failed");
                            }),
               std::runtime_error);
  EXPECT_LT(ran.load(), 100000);
}

TEST(ParallelFor, ZeroItemsRunsNothing) {
  bool ran = false;
  parallel_for(0, 4, [&](std::size_t) { ran = true; });
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace tilestream
