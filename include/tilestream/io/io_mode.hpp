// How bytes travel between storage and the GPU: the io modes a reader or writer can be asked for, as
// one table. The choice is always visible: every report names the mode that actually ran and why.
// Adding an io mode is one entry in io_modes() (src/io/io_mode.cpp) plus its transfer code; parsing,
// names, --io's help and its checks come from the table.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace tilestream::io {

enum class IoMode {
  automatic,  // gds where GPUDirect Storage really runs (nvidia-fs loaded), else posix
  posix,      // pread/pwrite on a thread pool through pinned staging buffers (uses the page cache)
  direct,     // O_DIRECT reads into aligned pinned buffers (bypasses the page cache)
  gds,        // cuFile straight to or from device memory (compatibility mode where nvidia-fs is missing)
};

struct IoModeInfo {
  IoMode mode;
  std::string_view name;     // as --io and TILESTREAM_IO spell it
  std::string_view summary;  // for --help
  bool reads;                // moves file bytes into device memory
  bool writes;               // device runs write raw Zarr blocks this way
  bool host_too;             // also what a CPU run does (asking for it without a device is no mistake)
};

// The table, in the order --help lists it.
std::span<const IoModeInfo> io_modes();
const IoModeInfo& info(IoMode mode);

// A name of the table; UsageError naming the accepted values otherwise.
IoMode parse_io_mode(std::string_view text);
const char* to_string(IoMode mode);
// "auto (gds where ...), posix (...), ...": the table as --help text.
std::string describe_io_modes();

// The process default: TILESTREAM_IO when set (core/settings.hpp; UsageError when it is not a mode),
// else auto.
IoMode default_io_mode();

}  // namespace tilestream::io
