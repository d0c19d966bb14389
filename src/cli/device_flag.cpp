// The backend --device picks (the name itself is parsed by core/device_name).
#include "cli/device_flag.hpp"

#include "tilestream/core/error.hpp"
#if TILESTREAM_WITH_CUDA
#include "tilestream/cuda/device.hpp"
#include "tilestream/pipeline/device_backend.hpp"
#endif

namespace tilestream::cli {

std::unique_ptr<pipeline::Backend> make_backend(int device, const std::optional<io::IoMode>& io,
                                                const std::optional<codec::DecodeMode>& decode,
                                                const std::optional<zarr::EncodeMode>& encode) {
  if (device < 0) return pipeline::make_cpu_backend();
#if TILESTREAM_WITH_CUDA
  (void)cuda::describe_device(device);  // the CUDA context: a one-off start-up outside every figure
  pipeline::DeviceBackendOptions options;
  options.device = device;
  options.io = io;
  options.decode = decode;
  options.encode = encode;
  return pipeline::make_device_backend(options);
#else
  (void)io;
  (void)decode;
  (void)encode;
  throw UsageError(concat("--device cuda:", device, ": this tilestream was built without CUDA"));
#endif
}

}  // namespace tilestream::cli
