// Device enumeration and selection.
#include "tilestream/cuda/device.hpp"

#include <cuda_runtime_api.h>

#include "tilestream/core/error.hpp"
#include "tilestream/cuda/error.hpp"

namespace tilestream::cuda {
namespace {

// The errors cudaGetDeviceCount gives on a machine without a usable GPU.
bool means_no_device(cudaError_t status) {
  return status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver ||
         status == cudaErrorStubLibrary || status == cudaErrorDevicesUnavailable ||
         status == cudaErrorSystemDriverMismatch || status == cudaErrorCompatNotSupportedOnDevice;
}

// cudaGetDeviceCount's answer: count, or the status that explains a count of 0.
struct Probe {
  int count = 0;
  cudaError_t status = cudaSuccess;
};

Probe probe() {
  Probe p;
  p.status = cudaGetDeviceCount(&p.count);
  if (p.status != cudaSuccess) {
    (void)cudaGetLastError();  // clear it, or the next launch check would report it
    p.count = 0;
    if (!means_no_device(p.status)) check_cuda(p.status, "cudaGetDeviceCount");
  }
  return p;
}

void check_device_id(int device) {
  const int count = device_count();
  check<UsageError>(device >= 0 && device < count, "CUDA device ", device, " does not exist (",
                    count == 0 ? concat("no CUDA device: ", no_device_reason()) : concat(count, " devices"),
                    ")");
}

}  // namespace

int device_count() { return probe().count; }

std::string no_device_reason() {
  const Probe p = probe();
  if (p.status != cudaSuccess) return concat(cudaGetErrorName(p.status), ": ", cudaGetErrorString(p.status));
  return p.count == 0 ? "cudaGetDeviceCount found no device" : "";
}

DeviceInfo describe_device(int device) {
  check_device_id(device);
  DeviceInfo info;
  info.id = device;
  cudaDeviceProp props{};
  check_cuda(cudaGetDeviceProperties(&props, device), "cudaGetDeviceProperties");
  info.name = props.name;
  info.total_memory = props.totalGlobalMem;
  info.compute_major = props.major;
  info.compute_minor = props.minor;
  info.multiprocessors = props.multiProcessorCount;
  DeviceGuard guard(device);
  std::size_t total = 0;
  check_cuda(cudaMemGetInfo(&info.free_memory, &total), "cudaMemGetInfo");
  return info;
}

void set_device(int device) {
  check_device_id(device);
  check_cuda(cudaSetDevice(device), "cudaSetDevice");
}

int current_device() {
  int device = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  return device;
}

DeviceGuard::DeviceGuard(int device) {
  check_cuda(cudaGetDevice(&previous_), "cudaGetDevice");
  if (previous_ != device) {
    check_cuda(cudaSetDevice(device), "cudaSetDevice");
    switched_ = true;
  }
}

DeviceGuard::~DeviceGuard() {
  if (switched_) report_cuda_in_destructor(cudaSetDevice(previous_), "cudaSetDevice");
}

}  // namespace tilestream::cuda
