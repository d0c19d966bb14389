// WorkQueue: one deque of tasks under a mutex; each batch counts its unfinished tasks and keeps the
// exception of its earliest failing task, and its caller waits on the batch's condition variable.
// Tasks start in order, so every task before a failing one has started and runs to its end: the
// earliest failing task's exception is the same whatever the threads' timing.
#include "tilestream/core/work_queue.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace tilestream {

struct WorkQueue::Batch {
  std::size_t unfinished = 0;
  bool failed = false;
  std::exception_ptr first_error;  // of the task with the lowest order that failed
  std::size_t error_order = 0;
  std::size_t next_order = 0;      // posted tasks
  std::condition_variable done;
};

WorkQueue::WorkQueue(unsigned threads) : posted_(std::make_unique<Batch>()) {
  const unsigned count = std::max(1u, threads);
  threads_.reserve(count);
  for (unsigned t = 0; t < count; ++t) threads_.emplace_back([this] { work(); });
}

WorkQueue::~WorkQueue() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  threads_.clear();  // joins
}

void WorkQueue::run_all(std::vector<std::function<void()>> tasks) {
  if (tasks.empty()) return;
  Batch batch;
  std::unique_lock lock(mutex_);
  batch.unfinished = tasks.size();
  for (std::size_t i = 0; i < tasks.size(); ++i) items_.push_back({&batch, std::move(tasks[i]), i});
  lock.unlock();
  if (tasks.size() == 1) {
    ready_.notify_one();
  } else {
    ready_.notify_all();
  }
  lock.lock();
  batch.done.wait(lock, [&] { return batch.unfinished == 0; });
  if (batch.first_error) std::rethrow_exception(batch.first_error);
}

void WorkQueue::post(std::function<void()> task) {
  {
    const std::lock_guard lock(mutex_);
    ++posted_->unfinished;
    items_.push_back({posted_.get(), std::move(task), posted_->next_order++});
  }
  ready_.notify_one();
}

void WorkQueue::wait_posted() {
  std::unique_lock lock(mutex_);
  posted_->done.wait(lock, [&] { return posted_->unfinished == 0; });
  const std::exception_ptr error = std::exchange(posted_->first_error, nullptr);
  posted_->failed = false;
  if (error) std::rethrow_exception(error);
}

void WorkQueue::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    ready_.wait(lock, [&] { return stopping_ || !items_.empty(); });
    if (items_.empty()) return;  // stopping, nothing left
    Item item = std::move(items_.front());
    items_.pop_front();
    Batch& batch = *item.batch;
    if (!batch.failed) {
      lock.unlock();
      std::exception_ptr error;
      try {
        item.task();
      } catch (...) {
        error = std::current_exception();
      }
      item.task = nullptr;  // whatever the task holds goes before its batch may end
      lock.lock();
      if (error && (!batch.first_error || item.order < batch.error_order)) {
        batch.first_error = error;
        batch.error_order = item.order;
      }
      batch.failed = batch.failed || error != nullptr;
    }
    if (--batch.unfinished == 0) batch.done.notify_all();
  }
}

}  // namespace tilestream
