// The check helper for CUDA runtime calls and kernel launches: failures become CudaError naming the call,
// the CUDA error and the source location.
#pragma once

#include <cuda_runtime_api.h>

#include <source_location>

namespace tilestream::cuda {

// Throws CudaError("<call> failed: <cudaGetErrorName>: <cudaGetErrorString> (file:line)") unless
// `status` is cudaSuccess.
void check_cuda(cudaError_t status, const char* call,
                std::source_location where = std::source_location::current());

// Checks the launch that just happened (cudaGetLastError); called after every kernel launch, in every
// build type: it costs no synchronisation. Errors inside the kernel surface at the next synchronising
// call on its stream.
void check_launch(const char* kernel, std::source_location where = std::source_location::current());

// For destructors, which cannot throw: a failure other than the runtime shutting down is written to
// stderr. A failed free or destroy means the context is broken, and the next checked call reports it.
void report_cuda_in_destructor(cudaError_t status, const char* call,
                               std::source_location where = std::source_location::current()) noexcept;

}  // namespace tilestream::cuda
