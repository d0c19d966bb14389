// Error family of tilestream: every failure a user can act on is one of these exceptions,
// and its message names the file and the place (IFD, level, tile, byte offset) it happened at.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tilestream {

enum class ErrorKind { format, codec, unsupported, io, cuda, usage, resource, stopped };

const char* to_string(ErrorKind kind);

// An option of the library's API named in a message, say option("chunk"): what() shows its name
// ("chunk"), a front end its own spelling of it (render_options: "--chunk" on the command line). The
// name is the options field's (ConvertOptions::zarr_version is "zarr_version").
std::string option(std::string_view name);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message);
  ErrorKind kind() const noexcept { return kind_; }
  // The message with its options marked (option()), for render_options.
  const std::string& marked_message() const noexcept { return marked_; }

 private:
  ErrorKind kind_;
  std::string marked_;
};

// `error`'s message with each option spelled by `spelling` (from the option's name).
std::string render_options(const Error& error, std::string (*spelling)(std::string_view name));

// The file is not a valid TIFF, or its structure contradicts itself (offsets past the end, loops...).
struct FormatError : Error {
  explicit FormatError(const std::string& m) : Error(ErrorKind::format, m) {}
};
// A tile's compressed bytes could not be decoded.
struct CodecError : Error {
  explicit CodecError(const std::string& m) : Error(ErrorKind::codec, m) {}
};
// Valid input that uses a feature we do not implement (a compression, a sample format...).
struct UnsupportedError : Error {
  explicit UnsupportedError(const std::string& m) : Error(ErrorKind::unsupported, m) {}
};
// A system call on a file failed, or a file is shorter than its index says.
struct IoError : Error {
  explicit IoError(const std::string& m) : Error(ErrorKind::io, m) {}
};
// A CUDA runtime call or kernel launch failed; the message names the call, the CUDA error and where.
struct CudaError : Error {
  explicit CudaError(const std::string& m) : Error(ErrorKind::cuda, m) {}
};
// Bad arguments from the caller (API or command line).
struct UsageError : Error {
  explicit UsageError(const std::string& m) : Error(ErrorKind::usage, m) {}
};

// A run stopped because its caller asked it to (RunOptions::stop: Ctrl-C in Python); what it wrote is
// whole and a resumed run finishes it.
struct StoppedError : Error {
  explicit StoppedError(const std::string& m) : Error(ErrorKind::stopped, m) {}
};

// What a caller can change when memory runs short, named as the library's options; the message words
// them so, and a front end (the CLI) maps them to its own flags.
enum class WayOut {
  region,         // read a region (Slide::read_region) rather than the whole level
  tiled_mode,     // pipeline Mode::tiled: chunks streamed, memory bounded by the budget
  memory_budget,  // ProcessOptions::memory: the bytes tiled mode holds at once
  smaller_chunk,  // ProcessOptions::chunk / ConvertOptions::chunk
  cpu_device,     // run on the CPU (which streams) rather than on the device
};
// The library's words for a way out: "read a region", "tiled mode", ...
const char* to_string(WayOut way);

// Not enough memory (host, or a device's) for what was asked, found before allocating it: the message
// names the file, the place, the bytes needed and available, the limit that bound them and the ways out.
struct ResourceError : Error {
  explicit ResourceError(const std::string& m, std::vector<WayOut> ways_out = {})
      : Error(ErrorKind::resource, m), ways_out_(std::move(ways_out)) {}
  const std::vector<WayOut>& ways_out() const noexcept { return ways_out_; }

 private:
  std::vector<WayOut> ways_out_;
};

// Builds a message from any streamable pieces: concat("tile ", 3, " of ", 10).
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// The one check helper: throws E with the concatenated message when the condition fails.
template <class E, class... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) throw E(concat(parts...));
}

// Re-throws a tilestream::Error of the same kind with `prefix + ": "` in front of its message,
// so that lower layers (codecs) need not know the file or tile they work on.
[[noreturn]] void rethrow_with_context(const Error& error, const std::string& prefix);

}  // namespace tilestream
