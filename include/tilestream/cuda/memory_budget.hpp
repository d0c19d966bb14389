// Device memory available for allocations sized by the input (a whole level on the device, global
// mode's images, device convert's levels): the twin of core/memory_budget.hpp, checked before
// cudaMallocAsync so that a request the device cannot hold is refused with the file, the level and the
// ways out rather than failing half-way.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tilestream/core/memory_budget.hpp"

namespace tilestream::cuda {

// Free device memory (cudaMemGetInfo) plus what the device's default stream-ordered pool holds
// unused (DeviceBuffer allocates from that pool, and DeviceReader keeps freed memory in it), naming
// both and the device's total. `device` must exist.
MemoryAvailable available_device_memory(int device);

// The arithmetic of available_device_memory, for tests: `pool_reserved` bytes held by the pool of
// which `pool_used` are in use.
MemoryAvailable device_memory_from(int device, std::size_t free, std::size_t total, std::size_t pool_reserved,
                                   std::size_t pool_used);

// Requests below this pass check_device_memory without a query: tiled mode's chunks read on many
// threads stay free of cudaMemGetInfo calls.
inline constexpr std::uint64_t unchecked_device_bytes = std::uint64_t{64} << 20;
// check_memory (core/memory_budget.hpp) against available_device_memory(device) read now, for requests
// of unchecked_device_bytes or more.
void check_device_memory(const MemoryRequest& request, int device);

}  // namespace tilestream::cuda
