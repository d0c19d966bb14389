// The io mode table, and names and defaults read from it.
#include "tilestream/io/io_mode.hpp"

#include <array>

#include "tilestream/core/error.hpp"
#include "tilestream/core/mode_table.hpp"
#include "tilestream/core/settings.hpp"

namespace tilestream::io {
namespace {

constexpr std::array<IoModeInfo, 4> table{{
    {IoMode::automatic, "auto", "gds where GPUDirect Storage really runs, else posix", true, true, true},
    {IoMode::posix, "posix", "pread/pwrite through pinned buffers", true, true, true},
    {IoMode::direct, "direct", "O_DIRECT reads into aligned pinned buffers; reads only", true, false, false},
    {IoMode::gds, "gds", "cuFile to and from device memory (raw blocks; encoded ones pass through the host)", true,
     true, false},
}};

}  // namespace

std::span<const IoModeInfo> io_modes() { return table; }

const IoModeInfo& info(IoMode mode) { return mode_entry<IoModeInfo>(table, mode, "io mode"); }

IoMode parse_io_mode(std::string_view text) { return parse_mode<IoModeInfo>(table, text, "io mode"); }

const char* to_string(IoMode mode) { return info(mode).name.data(); }

std::string describe_io_modes() { return describe_modes<IoModeInfo>(table); }

IoMode default_io_mode() {
  static const IoMode mode =
      mode_setting<IoModeInfo>(table, default_settings().io, "TILESTREAM_IO", "io mode", IoMode::automatic);
  return mode;
}

}  // namespace tilestream::io
