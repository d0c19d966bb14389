// Which CUDA devices there are and which one the calling thread works on.
#pragma once

#include <cstddef>
#include <string>

namespace tilestream::cuda {

// The number of usable devices; 0 when there is no driver, no device, or the driver is older than the
// runtime: those are facts about the machine, not errors. Anything else throws CudaError.
int device_count();
// Why device_count() is 0 ("cudaErrorNoDevice: no CUDA-capable device is detected", ...), or "" when
// there are devices: lets callers and tests say why the GPU path is not available.
std::string no_device_reason();

struct DeviceInfo {
  int id = 0;
  std::string name;
  std::size_t total_memory = 0;  // bytes
  std::size_t free_memory = 0;   // bytes, when described
  int compute_major = 0;
  int compute_minor = 0;
  int multiprocessors = 0;
};

// Throws UsageError for an id outside [0, device_count()), CudaError when a query fails.
DeviceInfo describe_device(int device);
// Makes `device` current for the calling thread; same errors as describe_device.
void set_device(int device);
int current_device();

// Makes `device` current for a scope and restores the previous one: for code (destructors, deleters)
// that may run on a thread whose current device is another.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool switched_ = false;
};

}  // namespace tilestream::cuda
