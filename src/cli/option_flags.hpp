// The one table from the library's options (their names in error messages, core/error.hpp option(),
// and the ways out of a ResourceError) to the command line's flags.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "tilestream/core/error.hpp"

namespace tilestream::cli {

struct OptionFlag {
  const char* option;  // the library's name: ConvertOptions / ProcessOptions field, "io", "levels"
  const char* flag;    // "--zarr-version"
};

// Every option the library names, and its flag.
std::span<const OptionFlag> option_flags();

// The flag of `option`; the option's own name where the table has none.
std::string flag_of(std::string_view option);

// What the CLI prints for `error`: its message with the options as flags, and for a ResourceError the
// flags behind its ways out (" (on the command line: --mode tiled, ...)").
std::string command_line_message(const Error& error);

}  // namespace tilestream::cli
