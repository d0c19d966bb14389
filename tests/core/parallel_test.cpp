// parallel_for runs every index exactly once and propagates the first exception.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <stdexcept>
#include <string>
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
  // Items after the failing one take 1 ms each, so running them all would take 25 s: stopping
  // early is visible however slowly the exception unwinds (sanitizers, loaded machines).
  std::atomic<int> ran{0};
  EXPECT_THROW(parallel_for(100000, 4,
                            [&](std::size_t i) {
                              ran++;
                              if (i == 10) throw std::runtime_error("tile 10 failed");
                              if (i > 10) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                            }),
               std::runtime_error);
  EXPECT_LT(ran.load(), 5000);
}

// Several items fail, the later ones sooner: the error reported is always the lowest index's.
TEST(ParallelFor, RethrowsTheLowestFailingIndexWhateverTheTiming) {
  for (int round = 0; round < 20; ++round) {
    try {
      parallel_for(64, 8, [&](std::size_t i) {
        if (i % 4 != 1) return;
        // Index 1 fails last: the others fail at once.
        if (i == 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        throw std::runtime_error("item " + std::to_string(i));
      });
      ADD_FAILURE() << "no error";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "item 1") << "round " << round;
    }
  }
}

TEST(ParallelFor, ZeroItemsRunsNothing) {
  bool ran = false;
  parallel_for(0, 4, [&](std::size_t) { ran = true; });
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace tilestream
