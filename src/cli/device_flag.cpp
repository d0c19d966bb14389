// Parsing of --device, and the backend it picks.
#include "cli/device_flag.hpp"

#include "tilestream/core/error.hpp"
#if TILESTREAM_WITH_CUDA
#include "tilestream/cuda/device.hpp"
#include "tilestream/pipeline/device_backend.hpp"
#endif

namespace tilestream::cli {

int parse_device_flag(const std::string& text) {
  if (text == "cpu") return -1;
  if (text == "cuda") return 0;
  if (text.starts_with("cuda:")) {
    const std::string number = text.substr(5);
    if (!number.empty() && number.size() <= 4 && number.find_first_not_of("0123456789") == std::string::npos)
      return std::stoi(number);
  }
  throw UsageError("--device wants cpu, cuda or cuda:N, got '" + text + "'");
}

std::unique_ptr<pipeline::Backend> make_backend(int device, const std::optional<io::IoMode>& io) {
  if (device < 0) return pipeline::make_cpu_backend();
#if TILESTREAM_WITH_CUDA
  (void)cuda::describe_device(device);  // the CUDA context: a one-off start-up outside every figure
  pipeline::DeviceBackendOptions options;
  options.device = device;
  options.io = io;
  return pipeline::make_device_backend(options);
#else
  (void)io;
  throw UsageError(concat("--device cuda:", device, ": this tilestream was built without CUDA"));
#endif
}

}  // namespace tilestream::cli
