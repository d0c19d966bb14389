// Wall-clock timing of the figures tilestream reports.
#pragma once

#include <atomic>
#include <chrono>
#include <utility>

namespace tilestream {

// Seconds of the steady clock since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Busy seconds of one stage summed over the threads that run it: each thread adds what it spent.
class BusySeconds {
 public:
  // Runs `work` and adds its wall time (also when it throws).
  template <typename Work>
  decltype(auto) time(Work&& work) {
    const Adder adder{*this, std::chrono::steady_clock::now()};
    return std::forward<Work>(work)();
  }
  double seconds() const { return total_.load(); }

 private:
  struct Adder {
    BusySeconds& busy;
    std::chrono::steady_clock::time_point start;
    ~Adder() { busy.total_.fetch_add(seconds_since(start)); }
  };
  std::atomic<double> total_{0};
};

}  // namespace tilestream
