// A fixed set of threads that run batches of small tasks handed in from any number of threads, so
// that many producers (the pipeline's chunk workers) share one bounded set of writers instead of each
// writing alone or starting threads of its own.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
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
  // yet started are skipped and the exception of its earliest failing task (in the order given) is
  // rethrown here, the same one whatever the threads' timing; other batches go on. Thread-safe.
  void run_all(std::vector<std::function<void()>> tasks);
  // Queues `task` and returns at once: posted tasks form one open batch. wait_posted() returns once
  // every task posted so far has finished or been skipped (after a posted task throws, the posted
  // tasks not yet started are skipped) and rethrows the exception of the earliest failing one (in
  // posting order), which it then forgets.
  // Thread-safe. The destructor runs what is still queued before it joins.
  void post(std::function<void()> task);
  void wait_posted();

 private:
  struct Batch;
  struct Item {
    Batch* batch;
    std::function<void()> task;
    std::size_t order;  // the task's place in its batch (posted tasks: in posting order)
  };
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> items_;
  bool stopping_ = false;
  std::unique_ptr<Batch> posted_;
  std::vector<std::jthread> threads_;
};

}  // namespace tilestream
