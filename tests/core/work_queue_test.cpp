// WorkQueue: every task of a batch runs once; batches from several threads run side by side on the
// queue's threads; a failing task stops its own batch only, and its exception reaches its caller.
#include "tilestream/core/work_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tilestream {
namespace {

TEST(WorkQueue, RunsEveryTaskOfABatchOnce) {
  WorkQueue queue(3);
  EXPECT_EQ(queue.threads(), 3u);
  std::vector<std::atomic<int>> runs(100);
  std::vector<std::function<void()>> tasks;
  for (std::size_t i = 0; i < runs.size(); ++i) tasks.emplace_back([&runs, i] { ++runs[i]; });
  queue.run_all(std::move(tasks));
  for (std::size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << "task " << i;
  queue.run_all({});  // nothing to do returns at once
  EXPECT_EQ(WorkQueue(0).threads(), 1u);
}

TEST(WorkQueue, RunsTasksOnSeveralThreadsAtOnce) {
  WorkQueue queue(4);
  std::atomic<int> running{0}, most{0};
  std::vector<std::function<void()>> tasks;
  for (int i = 0; i < 4; ++i) {
    tasks.emplace_back([&] {
      const int now = ++running;
      for (int seen = most.load(); seen < now && !most.compare_exchange_weak(seen, now);) {
      }
      // Wait (bounded) for the others, so that the count shows tasks held at the same time.
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (most.load() < 4 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
      --running;
    });
  }
  queue.run_all(std::move(tasks));
  EXPECT_EQ(most.load(), 4);
}

TEST(WorkQueue, BatchesFromManyThreadsAllFinish) {
  WorkQueue queue(3);
  std::atomic<long> sum{0};
  std::vector<std::jthread> callers;
  for (int c = 0; c < 8; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 20; ++round) {
        std::vector<std::function<void()>> tasks;
        for (int i = 1; i <= 10; ++i) tasks.emplace_back([&sum, c, i] { sum += c * 100 + i; });
        queue.run_all(std::move(tasks));
      }
    });
  }
  callers.clear();
  long want = 0;
  for (int c = 0; c < 8; ++c) want += 20 * (c * 100 * 10 + 55);
  EXPECT_EQ(sum.load(), want);
}

TEST(WorkQueue, AFailingTaskStopsItsBatchAndReachesItsCaller) {
  WorkQueue queue(1);  // one thread: tasks start in order, so "after the failure" is well defined
  std::atomic<int> after{0};
  std::vector<std::function<void()>> tasks;
  tasks.emplace_back([] { throw std::runtime_error("piece 0 failed"); });
  tasks.emplace_back([] { throw std::runtime_error("piece 1 failed"); });
  for (int i = 0; i < 5; ++i) tasks.emplace_back([&] { ++after; });
  try {
    queue.run_all(std::move(tasks));
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "piece 0 failed");
  }
  EXPECT_EQ(after.load(), 0) << "tasks after the failure are skipped";
  std::atomic<int> next{0};
  queue.run_all({[&] { ++next; }, [&] { ++next; }});
  EXPECT_EQ(next.load(), 2) << "the queue goes on with the next batch";
}

TEST(WorkQueue, PostedTasksRunWhileTheCallerGoesOn) {
  WorkQueue queue(2);
  std::atomic<bool> release{false};
  std::atomic<int> done{0};
  queue.post([&] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!release.load() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    ++done;
  });
  for (int i = 0; i < 20; ++i) queue.post([&] { ++done; });
  EXPECT_LT(done.load(), 21) << "post returned only after its tasks ran";
  release = true;
  queue.wait_posted();
  EXPECT_EQ(done.load(), 21);
  queue.wait_posted();  // nothing posted: returns at once
}

TEST(WorkQueue, APostedFailureReachesWaitPostedOnceAndSkipsTheRest) {
  WorkQueue queue(1);  // tasks start in order
  std::atomic<int> after{0};
  queue.post([] { throw std::runtime_error("commit 0 failed"); });
  queue.post([] { throw std::runtime_error("commit 1 failed"); });
  for (int i = 0; i < 5; ++i) queue.post([&] { ++after; });
  try {
    queue.wait_posted();
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "commit 0 failed");
  }
  EXPECT_EQ(after.load(), 0) << "posted tasks after the failure are skipped";
  queue.post([&] { ++after; });
  queue.wait_posted();  // the error was forgotten
  EXPECT_EQ(after.load(), 1);
}

TEST(WorkQueue, TheDestructorRunsWhatIsStillPosted) {
  std::atomic<int> done{0};
  {
    WorkQueue queue(1);
    for (int i = 0; i < 50; ++i) queue.post([&] { ++done; });
  }
  EXPECT_EQ(done.load(), 50);
}

}  // namespace
}  // namespace tilestream
