// Device memory available now (free memory and the stream-ordered pool's unused part), and the check
// of device allocations sized by the input against it.
#include "tilestream/cuda/memory_budget.hpp"

#include <cuda_runtime_api.h>

#include <cstdint>

#include "tilestream/core/error.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"

namespace tilestream::cuda {

MemoryAvailable device_memory_from(int device, std::size_t free, std::size_t total, std::size_t pool_reserved,
                                   std::size_t pool_used) {
  const std::size_t pooled = pool_reserved > pool_used ? pool_reserved - pool_used : 0;
  MemoryAvailable out;
  out.bytes = std::uint64_t{free} + pooled;
  out.memory = concat("device memory of cuda:", device);
  out.bound = concat("free device memory (cudaMemGetInfo) ", byte_count_text(free),
                     pooled > 0 ? concat(" and ", byte_count_text(pooled), " held unused by the memory pool")
                                : std::string(),
                     ", of ", byte_count_text(total), " total");
  return out;
}

MemoryAvailable available_device_memory(int device) {
  const DeviceGuard guard(device);
  std::size_t free = 0;
  std::size_t total = 0;
  check_cuda(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
  cudaMemPool_t pool = nullptr;
  check_cuda(cudaDeviceGetDefaultMemPool(&pool, device), "cudaDeviceGetDefaultMemPool");
  std::uint64_t reserved = 0;
  std::uint64_t used = 0;
  check_cuda(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &reserved),
             "cudaMemPoolGetAttribute(reserved memory)");
  check_cuda(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemCurrent, &used),
             "cudaMemPoolGetAttribute(used memory)");
  return device_memory_from(device, free, total, static_cast<std::size_t>(reserved), static_cast<std::size_t>(used));
}

void check_device_memory(const MemoryRequest& request, int device) {
  if (request.bytes < unchecked_device_bytes) return;
  check_memory(request, available_device_memory(device));
}

}  // namespace tilestream::cuda
