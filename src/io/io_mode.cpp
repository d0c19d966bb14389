// Names of the io modes, for flags, settings and reports.
#include "tilestream/io/io_mode.hpp"


#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"

namespace tilestream::io {

IoMode parse_io_mode(std::string_view text) {
  if (text == "auto") return IoMode::automatic;
  if (text == "posix") return IoMode::posix;
  if (text == "direct") return IoMode::direct;
  if (text == "gds") return IoMode::gds;
  throw UsageError(concat("io mode must be auto, posix, direct or gds, not '", text, "'"));
}

const char* to_string(IoMode mode) {
  switch (mode) {
    case IoMode::automatic: return "auto";
    case IoMode::posix: return "posix";
    case IoMode::direct: return "direct";
    case IoMode::gds: return "gds";
  }
  return "?";
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
