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
    case ErrorKind::stopped: return "stopped";
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

namespace {

// Marks an option's name in a message: a control character no message holds otherwise.
constexpr char option_mark = '\x1f';

// `marked` with each marked option spelled by `spelling`, or by its bare name without one.
std::string spell_options(const std::string& marked, std::string (*spelling)(std::string_view)) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    const std::size_t open = marked.find(option_mark, at);
    const std::size_t close = open == std::string::npos ? open : marked.find(option_mark, open + 1);
    if (close == std::string::npos) return out + marked.substr(at);
    const std::string_view name = std::string_view(marked).substr(open + 1, close - open - 1);
    out += marked.substr(at, open - at);
    out += spelling != nullptr ? spelling(name) : std::string(name);
    at = close + 1;
  }
}

}  // namespace

std::string option(std::string_view name) { return option_mark + std::string(name) + option_mark; }

Error::Error(ErrorKind kind, const std::string& message)
    : std::runtime_error(spell_options(message, nullptr)), kind_(kind), marked_(message) {}

std::string render_options(const Error& error, std::string (*spelling)(std::string_view name)) {
  return spell_options(error.marked_message(), spelling);
}

void rethrow_with_context(const Error& error, const std::string& prefix) {
  const std::string message = prefix + ": " + error.marked_message();
  switch (error.kind()) {
    case ErrorKind::format: throw FormatError(message);
    case ErrorKind::codec: throw CodecError(message);
    case ErrorKind::unsupported: throw UnsupportedError(message);
    case ErrorKind::io: throw IoError(message);
    case ErrorKind::usage: throw UsageError(message);
    case ErrorKind::cuda: throw CudaError(message);
    case ErrorKind::stopped: throw StoppedError(message);
    case ErrorKind::resource: {
      const auto* resource = dynamic_cast<const ResourceError*>(&error);
      throw ResourceError(message, resource != nullptr ? resource->ways_out() : std::vector<WayOut>{});
    }
  }
  throw Error(error.kind(), message);
}

}  // namespace tilestream
