// A fixed set of threads that run batches of small tasks handed in from any number of threads, so
// that many producers (the pipeline's chunk workers) share one bounded set of writers instead of each
// writing alone or starting threads of its own.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tilestream {

class WorkQueue {
 public:
  // Starts max(1, threads) threads; they wait for tasks until the queue is destroyed.
  explicit WorkQueue(unsigned threads);
  // Joins the threads. Callers of run_all() must have returned (a queue outlives its users).
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }
  // Runs every task on the queue's threads, in the order given as far as threads free up, and returns
  // once each has finished or been skipped. After a task of this batch throws, the batch's tasks not
  // yet started are skipped and the first exception is rethrown here; other batches go on. Thread-safe.
  void run_all(std::vector<std::function<void()>> tasks);

 private:
  struct Batch;
  struct Item {
    Batch* batch;
    std::function<void()> task;
  };
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> items_;
  bool stopping_ = false;
  std::vector<std::jthread> threads_;
};

}  // namespace tilestream
