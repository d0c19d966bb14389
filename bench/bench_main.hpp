// What the benchmark programs of bench/ share: the process's CPU seconds and a main that prints
// errors as one line.
#pragma once

#include <sys/resource.h>

#include <cstdio>
#include <exception>

namespace tilestream::bench {

// User plus system CPU seconds of the whole process so far (getrusage).
inline double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// run(argc, argv)'s status, or 1 after printing "name: error" on stderr.
template <class Run>
int main_of(const char* name, Run run, int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace tilestream::bench
