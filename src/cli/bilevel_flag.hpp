// The --bilevel-max flag of the sub-commands that read pixels (info, read, convert, process): what a
// set bit of a 1-bit image reads as (slide::OpenOptions::bilevel_max), one help text for all.
#pragma once

#include <CLI/CLI.hpp>

namespace tilestream::cli {

// Adds --bilevel-max 1|255 to `command`, storing the number in `value` (left as it is when absent).
void add_bilevel_option(CLI::App& command, unsigned& value);

}  // namespace tilestream::cli
