// The io mode table, and names and defaults read from it.
#include "tilestream/io/io_mode.hpp"

#include <array>

#include "tilestream/core/error.hpp"
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

const IoModeInfo& info(IoMode mode) {
  for (const IoModeInfo& entry : table)
    if (entry.mode == mode) return entry;
  throw UsageError(concat("io mode ", static_cast<int>(mode), " is not in the io mode table"));
}

IoMode parse_io_mode(std::string_view text) {
  std::string names;  // "auto, posix, direct or gds"
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].name == text) return table[i].mode;
    names += concat(i == 0 ? "" : i + 1 == table.size() ? " or " : ", ", table[i].name);
  }
  throw UsageError(concat("io mode must be ", names, ", not '", text, "'"));
}

const char* to_string(IoMode mode) { return info(mode).name.data(); }

std::string describe_io_modes() {
  std::string text;
  for (const IoModeInfo& entry : table) text += concat(text.empty() ? "" : ", ", entry.name, " (", entry.summary, ")");
  return text;
}

IoMode default_io_mode() {
  static const IoMode mode = [] {
    const std::string& value = default_settings().io;
    if (value.empty()) return IoMode::automatic;
    try {
      return parse_io_mode(value);
    } catch (const UsageError& e) {
      throw UsageError(concat("TILESTREAM_IO: ", e.what()));
    }
  }();
  return mode;
}

}  // namespace tilestream::io
