// CudaError construction for the CUDA check helpers.
#include "tilestream/cuda/error.hpp"

#include <cstdio>

#include "tilestream/core/error.hpp"

namespace tilestream::cuda {
namespace {

std::string describe(cudaError_t status, const char* call, const std::source_location& where) {
  return concat(call, " failed: ", cudaGetErrorName(status), ": ", cudaGetErrorString(status), " (",
                where.file_name(), ":", where.line(), ")");
}

}  // namespace

void check_cuda(cudaError_t status, const char* call, std::source_location where) {
  if (status != cudaSuccess) throw CudaError(describe(status, call, where));
}

void check_launch(const char* kernel, std::source_location where) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) throw CudaError(describe(status, concat("launch of ", kernel).c_str(), where));
}

void report_cuda_in_destructor(cudaError_t status, const char* call, std::source_location where) noexcept {
  if (status == cudaSuccess || status == cudaErrorCudartUnloading) return;
  std::fprintf(stderr, "tilestream: %s\n", describe(status, call, where).c_str());
}

}  // namespace tilestream::cuda
