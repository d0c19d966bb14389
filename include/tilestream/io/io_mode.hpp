// How bytes travel between storage and the GPU: the io backends a reader or writer can be asked for.
// The choice is always visible: every report names the mode that actually ran and why.
#pragma once

#include <string>
#include <string_view>

namespace tilestream::io {

enum class IoMode {
  automatic,  // gds where GPUDirect Storage really runs (nvidia-fs loaded), else posix
  posix,      // pread/pwrite on a thread pool through pinned staging buffers (uses the page cache)
  direct,     // O_DIRECT reads into aligned pinned buffers (bypasses the page cache)
  gds,        // cuFile straight to or from device memory (compatibility mode where nvidia-fs is missing)
};

// "auto", "posix", "direct", "gds"; UsageError naming the accepted values otherwise.
IoMode parse_io_mode(std::string_view text);
const char* to_string(IoMode mode);

// The process default: TILESTREAM_IO when set (read once; UsageError when it is not a mode), else auto.
IoMode default_io_mode();

}  // namespace tilestream::io
