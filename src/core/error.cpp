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
  }
  return "error";
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
  }
  throw Error(error.kind(), message);
}

}  // namespace tilestream
