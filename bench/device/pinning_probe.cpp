// On the GPU machine: how long pinning host memory takes, the way the tiled pipeline's workers do it
// (each of T threads pins its own bytes at once) and the ways it could: one allocation for all, or
// memory the threads fault in themselves and then register. One line per way: seconds to pin and to
// free. Built by hand, not by CMake (a probe, not part of the library):
//   nvcc -O2 -std=c++20 -o /tmp/pinning_probe bench/device/pinning_probe.cpp && /tmp/pinning_probe 16 10
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(status));
    std::exit(1);
  }
}

template <class F>
void on_threads(int threads, F f) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(f, t);
  for (std::thread& t : pool) t.join();
}

void report(const char* way, int threads, std::size_t bytes, double pin, double release) {
  std::printf("{\"way\": \"%s\", \"threads\": %d, \"mib_per_thread\": %zu, \"pin_s\": %.4f, \"pin_gb_s\": %.2f, "
              "\"free_s\": %.4f}\n",
              way, threads, bytes >> 20, pin, threads * static_cast<double>(bytes) / pin / 1e9, release);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 16;
  const std::size_t bytes = (argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10) << 20;
  check(cudaFree(nullptr), "context");
  std::vector<void*> pointers(threads);

  for (int repeat = 0; repeat < 2; ++repeat) {
    auto start = Clock::now();
    on_threads(threads, [&](int t) { check(cudaHostAlloc(&pointers[t], bytes, cudaHostAllocPortable), "cudaHostAlloc"); });
    const double pin = since(start);
    start = Clock::now();
    on_threads(threads, [&](int t) { check(cudaFreeHost(pointers[t]), "cudaFreeHost"); });
    report("cudaHostAlloc on each thread", threads, bytes, pin, since(start));

    start = Clock::now();
    void* all = nullptr;
    check(cudaHostAlloc(&all, bytes * threads, cudaHostAllocPortable), "cudaHostAlloc");
    const double one = since(start);
    start = Clock::now();
    check(cudaFreeHost(all), "cudaFreeHost");
    report("one cudaHostAlloc for all", threads, bytes, one, since(start));

    start = Clock::now();
    on_threads(threads, [&](int t) {
      pointers[t] = std::aligned_alloc(4096, bytes);
      std::memset(pointers[t], 0, bytes);
      check(cudaHostRegister(pointers[t], bytes, cudaHostRegisterPortable), "cudaHostRegister");
    });
    const double registered = since(start);
    start = Clock::now();
    on_threads(threads, [&](int t) {
      check(cudaHostUnregister(pointers[t]), "cudaHostUnregister");
      std::free(pointers[t]);
    });
    report("touch and cudaHostRegister on each thread", threads, bytes, registered, since(start));
  }
  return 0;
}
