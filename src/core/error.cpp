// Names of error kinds and context wrapping for the error family.
#include "tilestream/core/error.hpp"

namespace tilestream {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::format: return "format error";
    case ErrorKind::codec: return "codec error";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::io: return "I/O error";
    case ErrorKind::cuda: return "CUDA error";
    case ErrorKind::usage: return "usage error";
    case ErrorKind::resource: return "not enough memory";
  }
  return "error";
}

const char* to_string(WayOut way) {
  switch (way) {
    case WayOut::region: return "read a region (a part of the level)";
    case WayOut::tiled_mode: return "process in tiled mode, which streams chunks";
    case WayOut::memory_budget: return "set tiled mode's memory budget";
    case WayOut::smaller_chunk: return "use a smaller chunk";
    case WayOut::cpu_device: return "run on the CPU, which streams blocks";
  }
  return "?";
}

void rethrow_with_context(const Error& error, const std::string& prefix) {
  const std::string message = prefix + ": " + error.what();
  switch (error.kind()) {
    case ErrorKind::format: throw FormatError(message);
    case ErrorKind::codec: throw CodecError(message);
    case ErrorKind::unsupported: throw UnsupportedError(message);
    case ErrorKind::io: throw IoError(message);
    case ErrorKind::usage: throw UsageError(message);
    case ErrorKind::cuda: throw CudaError(message);
    case ErrorKind::resource: {
      const auto* resource = dynamic_cast<const ResourceError*>(&error);
      throw ResourceError(message, resource != nullptr ? resource->ways_out() : std::vector<WayOut>{});
    }
  }
  throw Error(error.kind(), message);
}

}  // namespace tilestream
